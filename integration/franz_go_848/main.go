// Command franz_go_848 drives franz-go's KIP-848 consumer group (kgo.ConsumerGroup
// with kgo.ServerSideBalancer: ConsumerGroupHeartbeat, the broker assigns)
// against a broker, for integration/test_franz_go_848.py.
//
//	franz_go_848 BOOTSTRAP TOPIC GROUP PARTITIONS
//
// TOPIC must exist with PARTITIONS partitions holding 10 records each (offsets
// 0-9). Three members join and consume (committing what they read from a
// partition before it is revoked); once each owns its share, every member
// commits what it consumed and the first leaves; the other two take
// over its partitions; 10 more records go to every partition and the
// survivors consume and commit them. Prints one JSON object: the assignments
// after the join (phase1) and after the leave (phase2), what each survivor
// had revoked or lost after phase1, and every record consumed as [member, partition,
// offset]. Exit status 1, with the reason on stderr, when a phase does not
// settle within 60 s.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type member struct {
	id       int
	cl       *kgo.Client
	mu       sync.Mutex
	owned    map[int32]bool
	revoked  []int32
	lost     []int32
	consumed [][3]int64
	done     chan struct{}
}

func (m *member) assigned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int32
	for p := range m.owned {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func newMember(id int, bootstrap, topic, group string) (*member, error) {
	m := &member{id: id, owned: map[int32]bool{}, done: make(chan struct{})}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(bootstrap),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ServerSideBalancer(),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range a[topic] {
				m.owned[p] = true
			}
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			// What was consumed from them is committed before they go, so
			// their next owner starts after it (a rebalance while members
			// join moves partitions already read).
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				fmt.Fprintf(os.Stderr, "member %d commit on revoke: %v\n", id, err)
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range r[topic] {
				delete(m.owned, p)
				m.revoked = append(m.revoked, p)
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range l[topic] {
				delete(m.owned, p)
				m.lost = append(m.lost, p)
			}
		}),
	)
	if err != nil {
		return nil, err
	}
	m.cl = cl
	go m.poll()
	return m, nil
}

func (m *member) poll() {
	defer close(m.done)
	for {
		fs := m.cl.PollFetches(context.Background())
		if fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			m.mu.Lock()
			m.consumed = append(m.consumed, [3]int64{int64(m.id), int64(r.Partition), r.Offset})
			m.mu.Unlock()
		})
	}
}

func (m *member) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.consumed)
}

// waitFor polls cond every 50 ms for up to 60 s.
func waitFor(what string, cond func() bool) {
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "timed out waiting for %s\n", what)
			os.Exit(1)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// balanced: every member owns `each` partitions and together all of them, once.
func balanced(ms []*member, each, partitions int) func() bool {
	return func() bool {
		seen := map[int32]bool{}
		for _, m := range ms {
			a := m.assigned()
			if len(a) != each {
				return false
			}
			for _, p := range a {
				if seen[p] {
					return false
				}
				seen[p] = true
			}
		}
		return len(seen) == partitions
	}
}

func total(ms []*member) int {
	n := 0
	for _, m := range ms {
		n += m.count()
	}
	return n
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: franz_go_848 BOOTSTRAP TOPIC GROUP PARTITIONS")
		os.Exit(2)
	}
	bootstrap, topic, group := os.Args[1], os.Args[2], os.Args[3]
	partitions, err := strconv.Atoi(os.Args[4])
	if err != nil || partitions%6 != 0 {
		fmt.Fprintln(os.Stderr, "PARTITIONS must be a multiple of 6")
		os.Exit(2)
	}
	var ms []*member
	for i := 0; i < 3; i++ {
		m, err := newMember(i, bootstrap, topic, group)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		ms = append(ms, m)
	}
	ctx := context.Background()
	waitFor("three members with a third of the partitions each", balanced(ms, partitions/3, partitions))
	phase1 := [][]int32{ms[0].assigned(), ms[1].assigned(), ms[2].assigned()}
	for _, m := range ms { // from here on, nothing may be revoked from the survivors
		m.mu.Lock()
		m.revoked, m.lost = nil, nil
		m.mu.Unlock()
	}
	waitFor("the first 10 records of every partition", func() bool { return total(ms) >= 10*partitions })
	for _, m := range ms {
		if err := m.cl.CommitUncommittedOffsets(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "member %d commit: %v\n", m.id, err)
			os.Exit(1)
		}
	}
	ms[0].cl.Close() // leaves the group (member epoch -1)
	<-ms[0].done
	survivors := ms[1:]
	waitFor("two members with half of the partitions each", balanced(survivors, partitions/2, partitions))
	phase2 := [][]int32{survivors[0].assigned(), survivors[1].assigned()}

	producer, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for p := 0; p < partitions; p++ {
		for i := 0; i < 10; i++ {
			r := &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(strconv.Itoa(10 + i))}
			if err := producer.ProduceSync(ctx, r).FirstErr(); err != nil {
				fmt.Fprintln(os.Stderr, "produce:", err)
				os.Exit(1)
			}
		}
	}
	producer.Close()
	waitFor("the next 10 records of every partition", func() bool { return total(ms) >= 20*partitions })
	for _, m := range survivors {
		if err := m.cl.CommitUncommittedOffsets(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "member %d commit: %v\n", m.id, err)
			os.Exit(1)
		}
	}
	out := map[string]any{"phase1": phase1, "phase2": phase2}
	var revoked, lost [][]int32
	var consumed [][3]int64
	for _, m := range survivors {
		m.mu.Lock()
		revoked = append(revoked, append([]int32{}, m.revoked...))
		lost = append(lost, append([]int32{}, m.lost...))
		m.mu.Unlock()
	}
	// Closing revokes what they own; read the records after the callbacks above.
	for _, m := range survivors {
		m.cl.Close()
		<-m.done
	}
	for _, m := range ms {
		consumed = append(consumed, m.consumed...)
	}
	out["revoked"], out["lost"], out["consumed"] = revoked, lost, consumed
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
