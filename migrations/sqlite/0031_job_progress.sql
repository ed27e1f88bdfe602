-- Progress of the long jobs in the database, so that every instance's
-- /metrics shows it whichever process runs the job (issue 21): the annual
-- run (fiscald assess, another process) and the imports (fiscald import or
-- POST /api/v1/admin/imports). The columns are written by the statements
-- the jobs already run: at a phase's start, with each batch's cursor or
-- checkpoint, at the end, and when a job stops on an error.
--
-- assessment_runs: objects_total is the phase's objects in the register when
-- the current pass started, objects_done those read up to the cursor in this
-- pass (the gauge's estimate; objects entered during the pass may make done
-- pass total, and the finish sets total to done then). failed_at and failure
-- are set when the run stopped on an error (cleared when it starts again or
-- commits a batch): the phase waits for a rerun, which resumes it.
ALTER TABLE assessment_runs ADD COLUMN objects_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assessment_runs ADD COLUMN objects_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assessment_runs ADD COLUMN failed_at TIMESTAMP;
ALTER TABLE assessment_runs ADD COLUMN failure TEXT NOT NULL DEFAULT '';

-- imports: file_rows is the file's data lines (CSV: counted before the first
-- batch; XLSX: 0, not known ahead); rows_total (0024) the lines checked so
-- far. failed_at and failure as above (a run of the same file resumes it).
ALTER TABLE imports ADD COLUMN file_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN failed_at TIMESTAMP;
ALTER TABLE imports ADD COLUMN failure TEXT NOT NULL DEFAULT '';
