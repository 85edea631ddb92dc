-- Cheaper writes for bulk loads of doses (docs/benchmarks.md, 2026-12-05).

-- Almost every dose is given outside a campaign, yet each one went into the
-- campaign index under a NULL key at a random date position: a third of the
-- time of writing a register's history. Campaign tallies ask for one
-- campaign's doses (`campaign_id = ?`), which implies the condition below, so
-- both databases still answer them from this index.
DROP INDEX imm_doses_campaign;
CREATE INDEX imm_doses_campaign ON imm_doses (campaign_id, given_on) WHERE campaign_id IS NOT NULL;

-- The valid-dose facts are derived from imm_doses, whose own foreign key
-- already ties every dose to a person (people are merged, never deleted), and
-- are rewritten whenever a child's doses change. A second foreign key on the
-- derived rows cost a lookup per fact — on PostgreSQL a trigger query per row
-- of a COPY — and guarded nothing the first does not.
-- postgres:begin
ALTER TABLE imm_valid_doses DROP CONSTRAINT imm_valid_doses_person_id_fkey;
-- postgres:end

-- sqlite:begin
-- On SQLite the facts are also stored clustered on (person, label), the key
-- they are written, deleted and re-derived by (WITHOUT ROWID): one B-tree
-- instead of a rowid table plus its primary-key index. (PostgreSQL has no
-- rowid to drop.)
CREATE TABLE imm_valid_doses_new (
    person_id BIGINT NOT NULL,
    label TEXT NOT NULL,
    -- The child's area and birth year when the fact was counted, so the
    -- counters can be decremented exactly even after the child moves.
    area_code TEXT NOT NULL,
    birth_year BIGINT NOT NULL,
    given_on TEXT NOT NULL,
    given_year BIGINT NOT NULL,
    by_12m BIGINT NOT NULL,
    by_24m BIGINT NOT NULL,
    timely BIGINT NOT NULL,
    PRIMARY KEY (person_id, label)
) WITHOUT ROWID;
INSERT INTO imm_valid_doses_new SELECT person_id, label, area_code, birth_year, given_on, given_year, by_12m, by_24m, timely FROM imm_valid_doses;
DROP TABLE imm_valid_doses;
ALTER TABLE imm_valid_doses_new RENAME TO imm_valid_doses;
CREATE INDEX imm_valid_doses_label ON imm_valid_doses (label, person_id);
-- sqlite:end
