package store

import (
	"sync"
	"time"

	"fiscald/fiscal"
)

// sessionCacheTTL is how long Authenticate keeps the actor of a session it
// has already read. It never trusts it blindly: every hit is revalidated
// against the database (the session not revoked, the user enabled and of the
// same role, by primary key), so a revocation by any process, or a change
// made directly in the database, is honoured on the next request. What the
// cache saves is the token-hash look-up and building the actor.
const sessionCacheTTL = 30 * time.Second

// sessionCacheMax bounds the cache; when full it is emptied (the next
// requests read their sessions again).
const sessionCacheMax = 100_000

// sessionCache keeps recently authenticated bearer tokens in memory, keyed
// by the token's SHA-256 (as the sessions table), so that every API request
// does not read the session and its user from the database.
type sessionCache struct {
	mu sync.RWMutex
	m  map[string]cachedSession
}

type cachedSession struct {
	session int64 // sessions.id, for the revalidation
	actor   fiscal.Actor
	until   time.Time // min(read + TTL, the session's expiry)
}

func (c *sessionCache) get(hash string, now time.Time) (*fiscal.Actor, int64, bool) {
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, 0, false
	}
	return copyActor(&e.actor), e.session, true
}

// copyActor copies an actor and what it points to: callers may change theirs
// without changing the cached one.
func copyActor(a *fiscal.Actor) *fiscal.Actor {
	c := *a
	if a.TaxpayerID != nil {
		id := *a.TaxpayerID
		c.TaxpayerID = &id
	}
	if a.Self != nil {
		id := *a.Self
		c.Self = &id
	}
	return &c
}

func (c *sessionCache) put(hash string, session int64, a *fiscal.Actor, now, expires time.Time) {
	until := now.Add(sessionCacheTTL)
	if expires.Before(until) {
		until = expires
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= sessionCacheMax {
		c.m = make(map[string]cachedSession)
	}
	c.m[hash] = cachedSession{session: session, actor: *copyActor(a), until: until}
	c.mu.Unlock()
}

func (c *sessionCache) drop(hash string) {
	c.mu.Lock()
	delete(c.m, hash)
	c.mu.Unlock()
}
