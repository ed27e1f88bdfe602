package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fiscald/fiscal"
)

// The audit log: every use case's entries appended to its municipality's
// hash chain (Audit, buffered in the transaction and chained at commit by
// flushAudit: one statement on PostgreSQL, audit_append), and the chain
// verified entry by entry (VerifyAudit for staff, VerifyAuditChain for the
// command line).

// genesis is the previous hash of each municipality's first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Audit appends an entry to the municipality's hash chain inside tx: who
// (the tx actor), when (tx.Now), what (action on entity/id), before and after
// (JSON of any value; nil for none). The entry is buffered and chained at
// commit (flushAudit): the chain's head, which every writer of the
// municipality needs, is taken only then, in one statement, after every
// slow step of the use case (rendering, signing PDFs) is done. Locking the
// head row serialises appends, so the chain has no forks on either engine.
func (tx *Tx) Audit(ctx context.Context, municipalityID int64, action, entity string, entityID any, before, after any) error {
	e, err := tx.auditEntry(municipalityID, action, entity, entityID, before, after)
	if err != nil {
		return err
	}
	tx.audits = append(tx.audits, e)
	return nil
}

// flushAudit chains the entries Audit buffered, just before commit: per
// municipality, one statement takes the head for all of them (seq moved on
// by their count) and one writes them with the head's new hash.
func (tx *Tx) flushAudit(ctx context.Context) error {
	for len(tx.audits) > 0 {
		muni := tx.audits[0].MunicipalityID
		var mine, rest []*fiscal.AuditEntry
		for _, e := range tx.audits {
			if e.MunicipalityID == muni {
				mine = append(mine, e)
			} else {
				rest = append(rest, e)
			}
		}
		if tx.db.dialect == "postgres" {
			if err := tx.appendAudit(ctx, muni, mine); err != nil {
				return err
			}
			tx.audits = rest
			continue
		}
		head, err := tx.auditHeadN(ctx, muni, len(mine))
		if err != nil {
			return err
		}
		var writes []stmt
		for i, e := range mine {
			st := head.append(e)
			writes = append(writes, st[0])
			if i == len(mine)-1 {
				writes = append(writes, st[1])
			}
			head = &auditSlot{MunicipalityID: muni, Seq: head.Seq + 1, Hash: e.Hash}
		}
		if err := tx.execAll(ctx, "audit entry", writes...); err != nil {
			return err
		}
		tx.audits = rest
	}
	return nil
}

// appendAudit chains entries of one municipality on PostgreSQL in one
// statement (the function audit_append of migration 0028 takes the head,
// hashes and inserts the entries and moves the head), so the head is held
// from that statement to the commit with no round trip in between.
func (tx *Tx) appendAudit(ctx context.Context, muni int64, entries []*fiscal.AuditEntry) error {
	type row struct {
		Tail     string `json:"tail"`
		At       string `json:"at"`
		ActorID  *int64 `json:"actor_id"`
		Actor    string `json:"actor"`
		Action   string `json:"action"`
		Entity   string `json:"entity"`
		EntityID string `json:"entity_id"`
		Before   string `json:"before"`
		After    string `json:"after"`
	}
	rows := make([]row, len(entries))
	for i, e := range entries {
		rows[i] = row{Tail: auditTail(e), At: e.At.UTC().Format(time.RFC3339Nano), ActorID: e.ActorID, Actor: e.Actor, Action: e.Action,
			Entity: e.Entity, EntityID: e.EntityID, Before: e.Before, After: e.After}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return fiscal.Internal(err, "audit: encode")
	}
	var last struct {
		Seq   int64  `db:"last_seq"`
		Hash  string `db:"last_hash"`
		Async string `db:"async"`
	}
	// The commit then does not wait for the WAL flush while holding the
	// head: the transaction's caller waits for it after (durability
	// barrier, commit.go), so an answered request is durable as before.
	if err := tx.Get(ctx, &last, `SELECT last_seq, last_hash, `+asyncCommitColumn+` AS async FROM audit_append(?, ?)`, muni, string(b)); err != nil {
		return translate(err, "audit entry")
	}
	tx.asyncCommit = true
	entries[len(entries)-1].Hash = last.Hash
	return nil
}

// auditEntry builds an entry of tx's actor at tx.Now (not yet chained).
func (tx *Tx) auditEntry(municipalityID int64, action, entity string, entityID any, before, after any) (*fiscal.AuditEntry, error) {
	b, err := auditJSON(before)
	if err != nil {
		return nil, err
	}
	a, err := auditJSON(after)
	if err != nil {
		return nil, err
	}
	e := &fiscal.AuditEntry{
		MunicipalityID: municipalityID, At: tx.Now, Actor: "system", Action: action, Entity: entity,
		EntityID: fmt.Sprint(entityID), Before: b, After: a,
	}
	if tx.Actor != nil && !tx.Actor.System {
		id := tx.Actor.UserID
		e.ActorID, e.Actor = &id, tx.Actor.Username
	} else if tx.Actor != nil && tx.Actor.Username != "" {
		e.Actor = tx.Actor.Username
	}
	// What is hashed is what is stored and read back on both engines
	// (PostgreSQL's text holds only valid UTF-8; the JSON fields already are).
	e.Actor, e.EntityID = strings.ToValidUTF8(e.Actor, "\uFFFD"), strings.ToValidUTF8(e.EntityID, "\uFFFD")
	return e, nil
}

// auditSlot is the chain head taken for one append: the sequence number the
// entry gets and the hash it links to.
type auditSlot struct {
	MunicipalityID int64  `db:"-"`
	Seq            int64  `db:"seq"`
	Hash           string `db:"hash"`
}

// auditHeadN takes the head for n appends: the slot of the first (its
// sequence number and the hash it links to).
func (tx *Tx) auditHeadN(ctx context.Context, municipalityID int64, n int) (*auditSlot, error) {
	head := &auditSlot{MunicipalityID: municipalityID}
	err := tx.Get(ctx, head, `UPDATE audit_heads SET seq = seq + ? WHERE municipality_id = ? RETURNING seq, hash`, n, municipalityID)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.Exec(ctx, `INSERT INTO audit_heads (municipality_id, seq, hash) VALUES (?, ?, ?)`, municipalityID, n, genesis); err != nil {
			return nil, translate(err, "audit head")
		}
		head.Seq, head.Hash, err = int64(n), genesis, nil
	}
	if err != nil {
		return nil, translate(err, "audit head")
	}
	head.Seq -= int64(n) - 1
	return head, nil
}

// append chains e to the head taken and returns the statements that store
// it and move the head's hash on (run them with execAll, in the same
// transaction).
func (h *auditSlot) append(e *fiscal.AuditEntry) []stmt {
	e.PrevHash = h.Hash
	e.Hash = auditHash(h.Seq, e)
	return []stmt{
		{`INSERT INTO audit_log (municipality_id, seq, at, actor_id, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{h.MunicipalityID, h.Seq, e.At, e.ActorID, e.Actor, e.Action, e.Entity, e.EntityID, e.Before, e.After, e.PrevHash, e.Hash}},
		{`UPDATE audit_heads SET hash = ? WHERE municipality_id = ?`, []any{e.Hash, h.MunicipalityID}},
	}
}

func auditJSON(v any) (string, error) {
	if v == nil {
		return "null", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fiscal.Internal(err, "audit: encode")
	}
	return string(b), nil
}

// auditHash is SHA-256 over the previous hash and every field of the entry,
// each length-prefixed so no two entries can encode alike.
func auditHash(seq int64, e *fiscal.AuditEntry) string {
	h := sha256.New()
	for _, f := range []string{e.PrevHash, strconv.FormatInt(seq, 10)} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	h.Write([]byte(auditTail(e)))
	return hex.EncodeToString(h.Sum(nil))
}

// auditTail encodes the fields of e that follow the previous hash and the
// sequence number in its hash (audit_append on PostgreSQL appends it to
// those two the same way).
func auditTail(e *fiscal.AuditEntry) string {
	var b strings.Builder
	actorID := ""
	if e.ActorID != nil {
		actorID = strconv.FormatInt(*e.ActorID, 10)
	}
	for _, f := range []string{strconv.FormatInt(e.MunicipalityID, 10),
		e.At.UTC().Format(time.RFC3339Nano), actorID, e.Actor, e.Action, e.Entity, e.EntityID, e.Before, e.After} {
		fmt.Fprintf(&b, "%d:%s;", len(f), f)
	}
	return b.String()
}

// VerifyAudit re-hashes the actor's municipality's chain in order and names
// the first entry whose link or hash does not match. Staff only.
func (db *DB) VerifyAudit(ctx context.Context) (*fiscal.AuditVerification, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin, fiscal.RoleAccountant, fiscal.RoleSigner, fiscal.RoleOfficer)
	if err != nil {
		return nil, err
	}
	return db.VerifyAuditChain(ctx, a.MunicipalityID)
}

// VerifyAuditChain verifies one municipality's chain (for the command line).
func (db *DB) VerifyAuditChain(ctx context.Context, municipalityID int64) (*fiscal.AuditVerification, error) {
	rows, err := db.db.QueryxContext(ctx, db.db.Rebind(`SELECT id, municipality_id, seq, at, actor_id, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash
		FROM audit_log WHERE municipality_id = ? ORDER BY seq`), municipalityID)
	if err != nil {
		return nil, translate(err, "audit log")
	}
	defer rows.Close()
	out := &fiscal.AuditVerification{Valid: true}
	prev := genesis
	var want int64 = 1
	for rows.Next() {
		var r struct {
			fiscal.AuditEntry
			Seq int64 `db:"seq"`
		}
		if err := rows.StructScan(&r); err != nil {
			return nil, translate(err, "audit log")
		}
		out.Entries++
		if !out.Valid {
			continue
		}
		id := r.ID
		switch {
		case r.Seq != want:
			out.Valid, out.FirstInvalidEntry, out.Reason = false, &id, fmt.Sprintf("sequence %d where %d was expected (an entry is missing)", r.Seq, want)
		case r.PrevHash != prev:
			out.Valid, out.FirstInvalidEntry, out.Reason = false, &id, "does not link to the previous entry"
		case auditHash(r.Seq, &r.AuditEntry) != r.Hash:
			out.Valid, out.FirstInvalidEntry, out.Reason = false, &id, "content does not match its hash (altered)"
		}
		prev = r.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "audit log")
	}
	if out.Valid {
		var head struct {
			Seq  int64  `db:"seq"`
			Hash string `db:"hash"`
		}
		err := db.db.GetContext(ctx, &head, db.db.Rebind(`SELECT seq, hash FROM audit_heads WHERE municipality_id = ?`), municipalityID)
		if err == nil && (head.Seq != want-1 || head.Hash != prev) {
			out.Valid, out.Reason = false, "the newest entries were removed (the chain head does not match)"
		}
	}
	return out, nil
}
