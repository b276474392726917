package controller

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ownedDigests remembers the digest of the operator's owned fields of each child for the
// state of the operator's managedFields entries it was computed for. Extracting that
// digest (structured-merge-diff over the whole object) is most of what the cache's
// transform costs, and most events of a child change none of the operator's fields: a
// Deployment's or an HPA's status, the replicas an HPA sets, a label someone adds.
//
// A value the operator owns changes only with an entry of the operator's: the API server
// moves a field to whoever else changes it (so the operator's entry loses it) and sets
// the entry's time when the operator's own apply changes a value. The operator's own
// applies also put the digest of what they sent under the key of the stored object they
// get back (rememberApplied), so that the cache's copy of a child just created or
// updated by the operator costs no extraction either. Only the restart's first list
// extracts every child. A client that writes managedFields by hand to forge the
// operator's entry can hide a change from it; that takes deliberate intent and the
// permission to write the child anyway.
//
// The memo is an accelerator only: a miss extracts as before. It keeps two generations
// of at most ownedDigestsGeneration entries; a hit in the older one moves to the newer,
// and the older is dropped when the newer is full, so entries of deleted children and of
// superseded states go after two generations.
var ownedDigests = newDigestMemo(ownedDigestsGeneration)

// ownedDigestsGeneration bounds one generation: about 100 bytes an entry, 3 MiB at most.
const ownedDigestsGeneration = 1 << 15

// digestKey identifies a child (its UID) and the state of the operator's managedFields
// entries (operation, API version, time and fields of each).
type digestKey [sha256.Size]byte

type digestMemo struct {
	limit int

	mu       sync.Mutex
	current  map[digestKey]digestEntry
	previous map[digestKey]digestEntry
}

// digestEntry is a remembered digest and whether it came from an apply's content (rather
// than from an extraction).
type digestEntry struct {
	digest  string
	applied bool
}

func newDigestMemo(limit int) *digestMemo {
	return &digestMemo{limit: limit, current: map[digestKey]digestEntry{}, previous: map[digestKey]digestEntry{}}
}

// keyOf returns obj's key; false when obj has no UID or no entry of the operator's (an
// object not from the API server, or one the operator does not own fields of).
func (m *digestMemo) keyOf(obj client.Object) (digestKey, bool) {
	uid := obj.GetUID()
	if uid == "" {
		return digestKey{}, false
	}
	h := sha256.New()
	h.Write([]byte(uid))
	found := false
	for _, e := range obj.GetManagedFields() {
		if e.Manager != FieldOwner || e.Subresource != "" {
			continue
		}
		found = true
		h.Write([]byte{0})
		h.Write([]byte(e.Operation))
		h.Write([]byte{0})
		h.Write([]byte(e.APIVersion))
		h.Write([]byte{0})
		if e.Time != nil {
			h.Write([]byte(e.Time.UTC().Format("2006-01-02T15:04:05Z")))
		}
		h.Write([]byte{0})
		if e.FieldsV1 != nil {
			h.Write(canonicalJSON(e.FieldsV1.GetRawBytes()))
		}
	}
	if !found {
		return digestKey{}, false
	}
	var key digestKey
	h.Sum(key[:0])
	return key, true
}

func (m *digestMemo) get(key digestKey) (string, bool) {
	e, ok := m.lookup(key)
	return e.digest, ok
}

func (m *digestMemo) lookup(key digestKey) (digestEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.current[key]; ok {
		return e, true
	}
	e, ok := m.previous[key]
	if ok {
		m.putLocked(key, e)
	}
	return e, ok
}

// put remembers an extracted digest, unless the key has one already: an apply's answer
// can arrive while the cache's transform extracts the same state from its watch event.
func (m *digestMemo) put(key digestKey, digest string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.current[key]; ok {
		return
	}
	m.putLocked(key, digestEntry{digest: digest})
}

func (m *digestMemo) putLocked(key digestKey, e digestEntry) {
	if _, ok := m.current[key]; !ok && len(m.current) >= m.limit {
		m.previous, m.current = m.current, make(map[digestKey]digestEntry, m.limit/2)
	}
	m.current[key] = e
}

// canonicalJSON writes raw with its object keys sorted. The API server's field set and
// the one read back through an unstructured object (the apply's answer) list the same
// keys in different orders.
func canonicalJSON(raw []byte) []byte {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	sorted, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return sorted
}

// rememberApplied records that stored, the object the API server returned for an apply
// of content under FieldOwner, holds content in the fields the operator owns.
func (m *digestMemo) rememberApplied(stored client.Object, contentDigest string) {
	if contentDigest == "" {
		return
	}
	if key, ok := m.keyOf(stored); ok {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.putLocked(key, digestEntry{digest: contentDigest, applied: true})
	}
}
