-- Accountants' reports read money movements by the day they took effect, per
-- municipality: index the allocations and credit entries by that day.
CREATE INDEX allocations_day ON allocations (municipality_id, effective_on);
CREATE INDEX credit_entries_day ON credit_entries (municipality_id, effective_on);
-- Arrears: the overdue debts of a municipality by due date.
CREATE INDEX debts_due ON debts (municipality_id, due_date);
