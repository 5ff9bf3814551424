package identity

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// memStore is the Store for this package's tests. The real one lives in
// the store package and is tested there.
type memStore struct {
	mu       sync.Mutex
	users    map[string]User // by ID
	sessions map[string]Session
	revoked  map[string]bool
}

func newMemStore() *memStore {
	return &memStore{users: map[string]User{}, sessions: map[string]Session{}, revoked: map[string]bool{}}
}

func (m *memStore) UpsertUser(_ context.Context, u User) (User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, old := range m.users {
		if old.Issuer == u.Issuer && old.Subject == u.Subject {
			u.ID = id
			m.users[id] = u
			return u, nil
		}
	}
	u.ID = fmt.Sprintf("u%d", len(m.users)+1)
	m.users[u.ID] = u
	return u, nil
}

func (m *memStore) User(_ context.Context, id string) (User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return User{}, ErrNotFound
	}
	return u, nil
}

func (m *memStore) CreateSession(_ context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.sessions[s.TokenHash]; dup {
		return fmt.Errorf("session exists")
	}
	m.sessions[s.TokenHash] = s
	return nil
}

func (m *memStore) Session(_ context.Context, hash string, now time.Time) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[hash]
	if !ok || m.revoked[hash] || !now.Before(s.ExpiresAt) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	return s, nil
}

func (m *memStore) RevokeSession(_ context.Context, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[hash]; !ok {
		return ErrNotFound
	}
	m.revoked[hash] = true
	return nil
}

// live counts the sessions neither revoked nor expired at now.
func (m *memStore) live(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for h, s := range m.sessions {
		if !m.revoked[h] && now.Before(s.ExpiresAt) {
			n++
		}
	}
	return n
}
