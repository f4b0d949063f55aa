package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/groupcommit"
	"github.com/alliance-project/alliance/migrations"
)

// write is the seam every write of the store passes through: its ops and
// the audit entries run in order in one transaction, so the audit log
// holds exactly the writes that were committed; so does the outbox, which
// gets the event an audit entry carries (see alliance.AuditEntry) right
// after the entry, in the same transaction. The transaction is shared
// with concurrent writes by the group-commit writer: on SQLite one commit
// and one fsync per batch (groupcommit.Tx), on PostgreSQL one pipelined
// round trip and one commit per batch (pipeline.go). Errors come back
// translated into the domain's sentinels.
//
// A write is a list of statements rather than code run on a transaction,
// so that PostgreSQL can be sent a whole batch of them before any result
// comes back; what a result means to the write (a row that must match, a
// unique index that means "taken") travels with its op.
func (s *Store) write(ctx context.Context, audit []alliance.AuditEntry, ops ...op) error {
	return s.commit(ctx, write{ops: withAudit(s.sql, ops, audit)})
}

// write is what one call of the write seam commits: its ops, and for a
// rating write the alert evaluation that runs before them in the same
// transaction, whose ops follow them (see alertStep).
type write struct {
	ops    []op
	alerts *alertStep
}

// withAudit is ops followed by the audit entries, each with its event.
func withAudit(sq *statements, ops []op, audit []alliance.AuditEntry) []op {
	ops = slices.Clip(ops)
	for _, e := range audit {
		ops = append(ops, op{st: sq.insertAudit, args: auditArgs(e)})
		if e.Event != nil {
			ops = append(ops, op{st: sq.insertEvent, args: eventArgs(*e.Event)})
		}
	}
	return ops
}

// commit hands w to the group-commit writer and waits for its outcome.
func (s *Store) commit(ctx context.Context, w write) error {
	err := s.writer.Do(ctx, w)
	if errors.Is(err, groupcommit.ErrClosed) {
		err = fmt.Errorf("store closed: %w", alliance.ErrUnavailable)
	}
	err = translate(err)
	s.writes.record(err)
	return err
}

// writeApart runs ops in one transaction of their own, without audit
// entries: the webhook dispatcher's bookkeeping (outbox.go), which is no
// request's write. On SQLite it goes through the writer like every write,
// the writer's connection being the only one that writes to the file. On
// PostgreSQL it runs beside the group-commit writer, in a transaction on a
// connection of the bounded pool: the database serialises it with the
// writer's batches by its row locks (the outbox rows a fan-out takes are
// ones no batch writes again; deliveries and endpoints are locked by one
// dispatcher at a time through SKIP LOCKED and the lease), so a batch of
// ratings never waits for an endpoint's failure count, and a dispatcher's
// failed statement never splits a batch.
func (s *Store) writeApart(ctx context.Context, ops ...op) error {
	if s.pool == nil {
		return s.write(ctx, nil, ops...)
	}
	conn, err := s.pool.conn(ctx)
	if err != nil {
		return translate(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := runOps(ctx, tx, ops); err != nil {
		_ = tx.Rollback()
		return err
	}
	return translate(tx.Commit())
}

// op is one statement of a write, and what its outcome means to the write.
type op struct {
	st   *statement
	args []any
	// none, if set, is the write's error when the statement matches no
	// row: the optimistic lock of a conditional UPDATE or DELETE.
	none error
	// taken, if set, is the write's error when the statement violates a
	// unique index, in place of ErrConflict.
	taken error
	// count, if set, receives how many rows the statement matched, once
	// it ran (a replay's deliveries, a claim's leases). An op with a count
	// is never merged into another write's INSERT.
	count *int64
	// rows, if more than one, is how many rows of arguments args holds:
	// the op runs st's form of that many rows (PostgreSQL only).
	rows int
}

// text is the SQL the op runs.
func (o op) text() string { return o.st.rows(max(o.rows, 1)) }

// outcome is what the statement's result means to the write: nil, or
// the error that fails it (translated).
func (o op) outcome(rows int64, err error) error {
	err = translate(err)
	if err == nil && o.count != nil {
		*o.count = rows
	}
	switch {
	case o.taken != nil && errors.Is(err, alliance.ErrConflict):
		return o.taken
	case err == nil && o.none != nil && rows == 0:
		return o.none
	}
	return err
}

// runWrite runs w on tx, the SQLite writer's transaction: its alert
// evaluation, reading the dyad as the transaction sees it (the writes
// before it in the batch included), then its ops and the alert changes.
func (s *Store) runWrite(ctx context.Context, tx *sql.Tx, w write) error {
	ops := w.ops
	if w.alerts != nil {
		more, err := s.evaluateOn(ctx, tx, w.alerts)
		if err != nil {
			return err
		}
		ops = append(slices.Clip(ops), more...)
	}
	return runOps(ctx, tx, ops)
}

// runOps runs ops on tx, a SQLite writer's transaction or a transaction
// on a pool connection, with the statements prepared on the writer's
// connection where they are.
func runOps(ctx context.Context, tx *sql.Tx, ops []op) error {
	for _, o := range ops {
		var res sql.Result
		var err error
		if p := o.st.prepared(); p != nil {
			res, err = tx.StmtContext(ctx, p).ExecContext(ctx, o.args...)
		} else {
			res, err = tx.ExecContext(ctx, o.st.text, o.args...)
		}
		var rows int64
		if err == nil && (o.none != nil || o.count != nil) {
			rows, err = res.RowsAffected()
		}
		if err := o.outcome(rows, err); err != nil {
			return err
		}
	}
	return nil
}

// statement is one SQL statement of the write path, written out once
// with ? placeholders and rebound to the backend's at open.
//
// On SQLite it is prepared on the writer's one connection, once the
// schema is there: SQLite compiles every statement it is given, and the
// writer runs every write of the service. On PostgreSQL pgx prepares and
// caches each statement per connection by itself.
type statement struct {
	text string
	stmt atomic.Pointer[sql.Stmt] // nil until prepared; only on SQLite

	// A statement of one row of values also has the form of n rows (see
	// rows), for PostgreSQL's batches: head, the row's tuple repeated,
	// tail, with ? placeholders. An INSERT … VALUES has it from its text;
	// others are given one (withRows). Empty for any other statement.
	dialect           migrations.Dialect
	head, tuple, tail string
	insert            bool     // a plain INSERT … VALUES of one row
	multi             sync.Map // n → the n-row statement's text
}

func newStatement(d migrations.Dialect, q string) *statement {
	st := &statement{text: rebind(d, q), dialect: d}
	if head, rest, ok := strings.Cut(q, "VALUES"); ok && strings.HasPrefix(head, "INSERT") {
		rest = strings.TrimSpace(rest)
		if end := closingParen(rest); end > 0 && !strings.Contains(rest, "VALUES") {
			st.head, st.tuple, st.tail, st.insert = head+"VALUES ", rest[:end+1], rest[end+1:], true
		}
	}
	return st
}

// withRows gives st its form of n rows: head, then the tuple of one row's
// values n times, then tail. The tuple takes the arguments of st's text,
// in their order, so that the statement of n rows does what st's text
// does run n times, once with each row's arguments.
func (st *statement) withRows(head, tuple, tail string) {
	st.head, st.tuple, st.tail = head, tuple, tail
}

// closingParen is the index of the parenthesis that closes the one q
// begins with, or -1.
func closingParen(q string) int {
	if !strings.HasPrefix(q, "(") {
		return -1
	}
	depth := 0
	for i, c := range q {
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

func (st *statement) prepared() *sql.Stmt { return st.stmt.Load() }

// inserts reports whether the statement is an INSERT of one row, which
// rows can repeat for other writes' rows.
func (st *statement) inserts() bool { return st.insert }

// rows is the text of the statement for n rows at once, for a statement
// that has that form: the arguments are each row's in turn.
func (st *statement) rows(n int) string {
	if n == 1 {
		return st.text
	}
	if q, ok := st.multi.Load(n); ok {
		return q.(string)
	}
	q := rebind(st.dialect, st.head+strings.TrimSuffix(strings.Repeat(st.tuple+", ", n), ", ")+st.tail)
	st.multi.Store(n, q)
	return q
}

// statements are the store's write statements.
type statements struct {
	insertStudy, insertDyad, withdrawDyad                   *statement
	insertRating, insertIdempotency, supersede, voidRating  *statement
	insertKey, revokeKey                                    *statement
	insertInvitation, useInvitation, revokeInvitation       *statement
	revokeDyadInvitations, insertAudit                      *statement
	redactDyadAudit, eraseDyadKeys, eraseDyadInvitations    *statement
	eraseDyadRatings, eraseDyad                             *statement
	redactStudyAudit, eraseStudyKeys, eraseStudyInvitations *statement
	eraseStudyRatings, eraseStudyDyads, eraseStudyAPIKeys   *statement
	eraseStudyUISessions, eraseStudy                        *statement
	// lockDyadErased, lockStudyErased and lockStudyDyadsErased begin an
	// erasure on PostgreSQL (erase.go); nil on SQLite.
	lockDyadErased, lockStudyErased, lockStudyDyadsErased *statement
	insertUISession, endUISession                         *statement
	// alerts, the outbox and webhooks (alerts.go, outbox.go, webhooks.go)
	updateAlertThresholds, insertAlert, resolveAlert              *statement
	markRepaired, reopenRupture                                   *statement
	acknowledgeAlert, insertEvent, insertAlertEvent               *statement
	fanOutEvents, markFannedOut, claimDeliveries, releaseDelivery *statement
	deliveryDone, deliveryRetry, insertAttempt, pruneAttempts     *statement
	endpointSucceeded, endpointFailed, disableEndpoint            *statement
	insertWebhook, updateWebhook, requeueDeliveries, replayEvents *statement
	deleteWebhookAttempts, deleteWebhookDeliveries, deleteWebhook *statement
	eraseDyadAttempts, eraseDyadDeliveries, eraseDyadEvents       *statement
	eraseDyadAlerts                                               *statement
	eraseStudyAttempts, eraseStudyDeliveries                      *statement
	eraseStudyWebhooks, eraseStudyEvents, eraseStudyAlerts        *statement
	insertInstrument                                              *statement
	list                                                          []*statement
	// findDyad is a read, on the pool's connections: not prepared on the
	// writer's.
	findDyad string
	// alertLock, alertContext, alertLater and activeAlerts are alert
	// evaluation's, in a rating write's transaction (alerts.go); alertLock
	// only on PostgreSQL.
	alertLock, alertContext, alertLater, activeAlerts *statement
}

func newStatements(d migrations.Dialect) *statements {
	s := &statements{findDyad: rebind(d, findDyadSQL)}
	fanOut, mark, lock := fanOutEventsSQL, markFannedOutSQL, ""
	var eraseLocks [3]string
	if d == migrations.Postgres {
		// One statement that takes the events it fans out (see
		// fanOutEventsPostgresSQL); nothing to mark afterwards.
		fanOut, mark, lock = fanOutEventsPostgresSQL, "", alertLockSQL
		eraseLocks = [3]string{lockDyadErasedSQL, lockStudyErasedSQL, lockStudyDyadsErasedSQL}
	}
	for _, f := range []struct {
		field **statement
		sql   string
	}{
		{&s.insertStudy, insertStudySQL}, {&s.insertDyad, insertDyadSQL}, {&s.withdrawDyad, withdrawDyadSQL},
		{&s.insertRating, insertRatingSQL}, {&s.insertIdempotency, insertIdempotencySQL},
		{&s.supersede, supersedeSQL}, {&s.voidRating, voidRatingSQL},
		{&s.insertKey, insertKeySQL}, {&s.revokeKey, revokeKeySQL},
		{&s.insertInvitation, insertInvitationSQL}, {&s.useInvitation, useInvitationSQL},
		{&s.revokeInvitation, revokeInvitationSQL}, {&s.revokeDyadInvitations, revokeDyadInvitationsSQL},
		{&s.insertAudit, insertAuditSQL},
		{&s.redactDyadAudit, redactDyadAuditSQL}, {&s.eraseDyadKeys, eraseDyadKeysSQL},
		{&s.eraseDyadInvitations, eraseDyadInvitationsSQL}, {&s.eraseDyadRatings, eraseDyadRatingsSQL},
		{&s.eraseDyad, eraseDyadSQL},
		{&s.redactStudyAudit, redactStudyAuditSQL}, {&s.eraseStudyKeys, eraseStudyKeysSQL},
		{&s.eraseStudyInvitations, eraseStudyInvitationsSQL}, {&s.eraseStudyRatings, eraseStudyRatingsSQL},
		{&s.eraseStudyDyads, eraseStudyDyadsSQL}, {&s.eraseStudyAPIKeys, eraseStudyAPIKeysSQL},
		{&s.eraseStudyUISessions, eraseStudyUISessionsSQL}, {&s.eraseStudy, eraseStudySQL},
		{&s.insertUISession, insertUISessionSQL}, {&s.endUISession, endUISessionSQL},
		{&s.updateAlertThresholds, updateAlertThresholdsSQL},
		{&s.insertAlert, insertAlertSQL}, {&s.resolveAlert, resolveAlertSQL},
		{&s.markRepaired, markRepairedSQL}, {&s.reopenRupture, reopenRuptureSQL}, {&s.acknowledgeAlert, acknowledgeAlertSQL},
		{&s.insertEvent, insertEventSQL}, {&s.insertAlertEvent, insertAlertEventSQL},
		{&s.fanOutEvents, fanOut}, {&s.markFannedOut, mark}, {&s.claimDeliveries, claimDeliveriesSQL}, {&s.releaseDelivery, releaseDeliverySQL},
		{&s.deliveryDone, deliveryDoneSQL}, {&s.deliveryRetry, deliveryRetrySQL},
		{&s.insertAttempt, insertAttemptSQL}, {&s.pruneAttempts, pruneAttemptsSQL},
		{&s.endpointSucceeded, endpointSucceededSQL}, {&s.endpointFailed, endpointFailedSQL}, {&s.disableEndpoint, disableEndpointSQL},
		{&s.insertWebhook, insertWebhookSQL}, {&s.updateWebhook, updateWebhookSQL}, {&s.requeueDeliveries, requeueDeliveriesSQL},
		{&s.replayEvents, replayEventsSQL},
		{&s.deleteWebhookAttempts, deleteWebhookAttemptsSQL}, {&s.deleteWebhookDeliveries, deleteWebhookDeliveriesSQL},
		{&s.deleteWebhook, deleteWebhookSQL},
		{&s.eraseDyadAttempts, eraseDyadAttemptsSQL}, {&s.eraseDyadDeliveries, eraseDyadDeliveriesSQL},
		{&s.eraseDyadEvents, eraseDyadEventsSQL}, {&s.eraseDyadAlerts, eraseDyadAlertsSQL},
		{&s.eraseStudyAttempts, eraseStudyAttemptsSQL}, {&s.eraseStudyDeliveries, eraseStudyDeliveriesSQL},
		{&s.eraseStudyWebhooks, eraseStudyWebhooksSQL}, {&s.eraseStudyEvents, eraseStudyEventsSQL},
		{&s.eraseStudyAlerts, eraseStudyAlertsSQL},
		{&s.insertInstrument, insertInstrumentSQL},
		{&s.lockDyadErased, eraseLocks[0]}, {&s.lockStudyErased, eraseLocks[1]}, {&s.lockStudyDyadsErased, eraseLocks[2]},
		{&s.alertLock, lock}, {&s.alertContext, alertContextSQL}, {&s.alertLater, alertLaterSQL},
		{&s.activeAlerts, activeAlertsSQL},
	} {
		if f.sql == "" {
			continue // not a statement of this dialect
		}
		*f.field = newStatement(d, lockClause(d, f.sql))
		s.list = append(s.list, *f.field)
	}
	if d == migrations.Postgres { // a batch's alert changes (alertChanges)
		s.resolveAlert.withRows(resolveAlertsHead, resolveAlertsRow, resolveAlertsTail)
		s.insertAlertEvent.withRows(insertAlertEventsHead, insertAlertEventsRow, insertAlertEventsTail)
		s.markRepaired.withRows(markRepairedManyHead, markRepairedManyRow, markRepairedManyTail)
	}
	return s
}

func (s *statements) all() []*statement { return s.list }

// prepare prepares every statement on db, the writer's connection. It is
// called at open and after migrations; before the schema exists a
// statement fails to prepare and runs unprepared until then.
func (s *statements) prepare(ctx context.Context, db *sql.DB) {
	for _, st := range s.all() {
		if st.prepared() != nil {
			continue
		}
		if p, err := db.PrepareContext(ctx, st.text); err == nil {
			st.stmt.Store(p)
		}
	}
}

func (s *statements) close() {
	for _, st := range s.all() {
		if p := st.prepared(); p != nil {
			_ = p.Close()
		}
	}
}

// skipLocked marks where a statement that claims rows locks them on
// PostgreSQL, so that concurrent dispatchers on other instances skip the
// rows one of them claimed instead of waiting for them; SQLite has one
// writer and no row locks.
const skipLocked = "/*skip locked*/"

// lockClause fills in skipLocked for the dialect.
func lockClause(d migrations.Dialect, q string) string {
	if d == migrations.Postgres {
		return strings.ReplaceAll(q, skipLocked, "FOR UPDATE OF d SKIP LOCKED")
	}
	return strings.ReplaceAll(q, skipLocked, "")
}

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2, …. The
// store's statements hold no ? inside literals.
func rebind(d migrations.Dialect, q string) string {
	if d != migrations.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
