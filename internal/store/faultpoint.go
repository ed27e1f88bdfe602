package store

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Fault points are a test hook: named places inside use-case transactions
// where the process kills itself with SIGKILL, so that the crash tests
// (cmd/fiscald/faults_test.go, TestKillAtFaultPoint) can stop the service
// at a chosen moment between two writes of one transaction rather than at
// a random one. The hook is off unless cmd sets a point from
// FISCAL_FAULT_POINT (SetFaultPoint): "NAME" or "NAME#N"; then the first
// (N-th) time the process reaches that point it dies as the OOM killer or
// an operator's kill -9 would leave it: no deferred function, no rollback,
// no commit. The points:
const (
	// FaultCaseSign: a signer's decision has written its signed step, the
	// timeline event, the notification, the audit entry and, on approval,
	// the case's effects; the transaction has not committed.
	FaultCaseSign = "case.sign.before-commit"
	// FaultSettleAllocations: a payment's settlement has inserted its late
	// fees and allocations; its credit, receipt number, status and audit
	// entry are not written yet.
	FaultSettleAllocations = "payment.settle.after-allocations"
	// FaultSettleCommit: the settlement is complete (receipt number taken,
	// audit entry written) and the transaction has not committed.
	FaultSettleCommit = "payment.settle.before-commit"
	// FaultRefundApply: a refund has reversed the payment's credit and
	// allocations; the refund's status and audit entry are not written yet.
	FaultRefundApply = "refund.apply.after-reversal"
	// FaultAnnualCursor: an annual-run batch has inserted its assessments
	// and debts; the run's cursor has not moved and the batch's audit
	// entry is not written.
	FaultAnnualCursor = "annual.batch.before-cursor"
	// FaultEscalationDeem: an escalation sweep has committed its claims of
	// deemed decisions (case_escalations, not done); the system's acts are
	// not taken yet.
	FaultEscalationDeem = "escalation.deem.before-act"
)

// FaultPoints lists the points SetFaultPoint accepts.
var FaultPoints = []string{FaultCaseSign, FaultSettleAllocations, FaultSettleCommit, FaultRefundApply, FaultAnnualCursor, FaultEscalationDeem}

// faultState is the armed point: its name and the hit that kills.
type faultState struct {
	point string
	at    int64
	hits  atomic.Int64
}

// SetFaultPoint arms a fault point, "NAME" or "NAME#N" (the N-th time it is
// reached; "" disarms). It reports whether NAME is one of FaultPoints and N
// a positive number. Call it before the database is shared.
func (db *DB) SetFaultPoint(spec string) bool {
	db.fault = faultState{}
	if spec == "" {
		return true
	}
	name, n, hasN := strings.Cut(spec, "#")
	at := int64(1)
	if hasN {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v < 1 {
			return false
		}
		at = v
	}
	for _, p := range FaultPoints {
		if p == name {
			db.fault.point, db.fault.at = name, at
			return true
		}
	}
	return false
}

// fault kills the process with SIGKILL when name is the armed point.
func (tx *Tx) fault(name string) { tx.db.faultAt(name) }

// faultAt kills the process with SIGKILL when name is the armed point
// (between transactions).
func (db *DB) faultAt(name string) {
	f := &db.fault
	if f.point == "" || f.point != name || f.hits.Add(1) != f.at {
		return
	}
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		_ = p.Kill() // SIGKILL on Unix: nothing of this process runs after it
	}
	for {
		time.Sleep(time.Hour) // the signal is on its way; never return into the transaction
	}
}
