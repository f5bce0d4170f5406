/*
 * Fetch sessions (KIP-227): the broker remembers the partitions a client
 * fetches, so later requests list only what changed and responses carry
 * only partitions with news.
 *
 *   session_id  session_epoch  meaning
 *   0           -1             a full fetch without a session
 *   X or 0       0             close X (if any), create a session, full fetch
 *   X           -1             close X, then a full fetch without a session
 *   X           >0             incremental fetch in session X at that epoch
 *
 * A session holds every partition's fetch offset and max bytes as last sent
 * by the client, and the high watermark, last stable offset, log start
 * offset and error last answered, to tell what changed. The cache holds at
 * most SK_FETCH_SESSION_SLOTS sessions and evicts the least recently used
 * (Kafka's max.incremental.fetch.session.cache.slots default is 1000).
 */
#ifndef SKIFF_FETCH_SESSION_H
#define SKIFF_FETCH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/htab.h"

#define SK_FETCH_SESSION_SLOTS 1000

/* One partition of a session (or of a sessionless fetch). */
typedef struct sk_fetch_part_state {
    char *topic;                  /* topic name (heap); NULL when only the id is known */
    uint8_t topic_id[16];         /* topic id (zero when the client used names) */
    int32_t partition;            /* partition index */
    int64_t fetch_offset;         /* from the client */
    int32_t partition_max_bytes;  /* from the client */
    int32_t current_leader_epoch; /* from the client (KIP-320), -1 = none; kept for the partitions a
                                   * continuation omits, as Kafka's CachedPartition */
    /* last answered, for incremental responses */
    int64_t high_watermark;     /* last answered */
    int64_t last_stable_offset; /* last answered */
    int64_t log_start_offset;   /* last answered */
    int16_t error_code;         /* last answered */
    bool answered;              /* answered at least once in this session */
    bool sent_records;          /* records in the response being built (see sk_fetch_session_rotate) */
} sk_fetch_part_state;

typedef struct sk_fetch_session {
    int32_t id;                 /* > 0 */
    int32_t epoch;              /* the epoch the next request must carry */
    int32_t node_id;            /* the broker it was created at (skiff/cluster.h): each broker has its own
                                  * sessions, as each Kafka broker its own cache */
    sk_fetch_part_state *parts; /* in insertion order */
    int32_t nparts, cap;        /* entries in parts, and its capacity */
    struct sk_fetch_session *lru_prev, *lru_next; /* most recently used first */
    sk_hnode node;                                /* in the cache's table by id (internal) */
} sk_fetch_session;

typedef struct sk_fetch_sessions sk_fetch_sessions;

sk_fetch_sessions *sk_fetch_sessions_new(void);
void sk_fetch_sessions_free(sk_fetch_sessions *c);

/* Creates an empty session with a fresh id, evicting the least recently
 * used one when the cache is full. NULL when out of memory. */
sk_fetch_session *sk_fetch_session_create(sk_fetch_sessions *c);
/* The session with `id`, marked most recently used; NULL if unknown. */
sk_fetch_session *sk_fetch_session_find(sk_fetch_sessions *c, int32_t id);
/* Removes and frees the session `id` (no-op when unknown). */
void sk_fetch_session_close(sk_fetch_sessions *c, int32_t id);

/* The entry of a partition (matched by topic name, or by topic id when
 * `topic` is NULL); NULL when the session does not hold it. */
sk_fetch_part_state *sk_fetch_session_part(sk_fetch_session *s, const char *topic, const uint8_t topic_id[16],
                                           int32_t partition);
/* Adds or updates a partition (matched as sk_fetch_session_part). Returns the
 * entry or NULL when out of memory. */
sk_fetch_part_state *sk_fetch_session_upsert(sk_fetch_session *s, const char *topic, const uint8_t topic_id[16],
                                             int32_t partition);
/* Removes a partition if present. */
void sk_fetch_session_forget(sk_fetch_session *s, const char *topic, const uint8_t topic_id[16], int32_t partition);
/* Moves the partitions flagged sent_records to the end of the session's
 * order, keeping the relative order on both sides, and clears the flags.
 * Incremental fetches read partitions in session order under max_bytes, so
 * this keeps partitions with steady traffic from starving the others
 * (Kafka's IncrementalFetchContext does the same). Without memory for the
 * reordering the order stays as it is. */
void sk_fetch_session_rotate(sk_fetch_session *s);

#endif
