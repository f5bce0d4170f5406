#!/bin/sh
# Lays out the container image's root file system (the Dockerfile's build
# stage runs this):  rootfs.sh SKIFF_BINARY ROOT
#  - skiff, and exactly the shared libraries and loader `ldd` names for it;
#  - busybox-static as /bin/sh and its applets (sleep, sed, hostname, ...),
#    and /bin/bash, a script running busybox's shell: Testcontainers' start
#    scripts begin with #!/bin/bash and use nothing beyond what ash does;
#  - apache/kafka's /etc/kafka/docker/run and Confluent's
#    /etc/confluent/docker/{run,configure,launch,ensure,bash-config}, the
#    entry points the Testcontainers modules call;
#  - the user skiff (10001), /tmp, the data directory, the image defaults.
set -eu
bin=$1
root=$2
here=$(dirname "$0")

mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/bin" "$root/etc/skiff" \
    "$root/etc/kafka/docker" "$root/etc/confluent/docker" "$root/var/lib/skiff" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$bin" "$root/usr/local/bin/skiff"

# Libraries: "name => /path (addr)" lines, and the loader's "/path (addr)".
for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done

cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
ln -s ../../bin/busybox "$root/usr/bin/env"
printf '#!/bin/sh\n# bash scripts run in busybox'"'"'s ash.\nexec /bin/busybox sh "$@"\n' > "$root/bin/bash"
chmod 755 "$root/bin/bash"

run='#!/bin/sh
# %s: starts skiff in place of the broker%s.
if [ -f /mnt/shared/config/server.properties ]; then
    exec /usr/local/bin/skiff --config /mnt/shared/config/server.properties
fi
exec /usr/local/bin/skiff
'
# shellcheck disable=SC2059
printf "$run" "apache/kafka's start command" " (a server.properties mounted in /mnt/shared/config replaces the image defaults, as there)" \
    > "$root/etc/kafka/docker/run"
for step in run launch; do
    # shellcheck disable=SC2059
    printf "$run" "Confluent's $step step" "" > "$root/etc/confluent/docker/$step"
done
for step in configure ensure; do
    printf '#!/bin/sh\n# Confluent'"'"'s %s step: skiff needs no preparation.\n' "$step" \
        > "$root/etc/confluent/docker/$step"
done
printf '# Confluent'"'"'s shell settings: none for skiff.\n' > "$root/etc/confluent/docker/bash-config"
chmod 755 "$root/etc/kafka/docker/run" "$root/etc/confluent/docker/"*

cp "$here/image.properties" "$root/etc/skiff/image.properties"
printf 'root:x:0:0:root:/root:/bin/sh\nskiff:x:10001:10001:skiff:/var/lib/skiff:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nskiff:x:10001:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
