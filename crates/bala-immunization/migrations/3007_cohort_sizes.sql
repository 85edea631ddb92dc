-- The register's cohort sizes as counters (ADR 0018). Coverage divides by the
-- children of a birth cohort per area; counting them from the people index
-- read and grouped every child of the cohort on each request (≈ 210 ms of a
-- 400 000-child cohort on SQLite, most of coverage's first answer). These
-- rows hold the count per (area, birth date) of people not merged away, so
-- a cohort's sizes are a sum over at most 366 rows per area, and the day
-- precision keeps "aged 12 months on a date" exact. Triggers, not calls in
-- the code, keep them true whatever writes people (card, import, merge, raw SQL).
-- sqlite:begin
CREATE TABLE imm_cohort_sizes (
    area_code TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (area_code, birth_date)
) WITHOUT ROWID;
-- sqlite:end
-- postgres:begin
CREATE TABLE imm_cohort_sizes (
    area_code TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (area_code, birth_date)
);
-- Another process registering children while this runs would commit rows the
-- backfill does not see and the triggers (created below) do not count: hold
-- writers off until this migration commits.
LOCK TABLE people IN SHARE ROW EXCLUSIVE MODE;
-- postgres:end
INSERT INTO imm_cohort_sizes (area_code, birth_date, n)
SELECT area_code, birth_date, COUNT(*) FROM people WHERE merged_into IS NULL
GROUP BY area_code, birth_date;
-- Read by birth date range for every area at once.
CREATE INDEX imm_cohort_sizes_birth ON imm_cohort_sizes (birth_date, area_code, n);

-- sqlite:begin
CREATE TRIGGER imm_cohort_sizes_i AFTER INSERT ON people WHEN NEW.merged_into IS NULL BEGIN
    INSERT INTO imm_cohort_sizes (area_code, birth_date, n) VALUES (NEW.area_code, NEW.birth_date, 1)
    ON CONFLICT (area_code, birth_date) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER imm_cohort_sizes_d AFTER DELETE ON people WHEN OLD.merged_into IS NULL BEGIN
    UPDATE imm_cohort_sizes SET n = n - 1 WHERE area_code = OLD.area_code AND birth_date = OLD.birth_date;
END;
CREATE TRIGGER imm_cohort_sizes_u AFTER UPDATE OF area_code, birth_date, merged_into ON people
WHEN OLD.area_code IS NOT NEW.area_code OR OLD.birth_date IS NOT NEW.birth_date
  OR OLD.merged_into IS NOT NEW.merged_into BEGIN
    UPDATE imm_cohort_sizes SET n = n - 1
    WHERE OLD.merged_into IS NULL AND area_code = OLD.area_code AND birth_date = OLD.birth_date;
    INSERT INTO imm_cohort_sizes (area_code, birth_date, n)
    SELECT NEW.area_code, NEW.birth_date, 1 WHERE NEW.merged_into IS NULL
    ON CONFLICT (area_code, birth_date) DO UPDATE SET n = n + 1;
END;
-- sqlite:end
-- PostgreSQL: one trigger call per statement over its transition tables, so
-- a COPY of a whole register adds one grouped upsert, not one per row. Rows
-- are applied in key order, so two writers take the counter rows' locks in
-- the same order.
-- postgres:begin
CREATE FUNCTION imm_cohort_sizes_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO imm_cohort_sizes AS s (area_code, birth_date, n)
        SELECT area_code, birth_date, COUNT(*) FROM new_rows WHERE merged_into IS NULL
        GROUP BY area_code, birth_date ORDER BY area_code, birth_date
        ON CONFLICT (area_code, birth_date) DO UPDATE SET n = s.n + EXCLUDED.n;
    ELSE -- UPDATE: only rows whose area, birth date or merge changed move.
        INSERT INTO imm_cohort_sizes AS s (area_code, birth_date, n)
        SELECT area_code, birth_date, SUM(k) FROM (
            SELECT o.area_code, o.birth_date, -1 AS k FROM old_rows o
            WHERE o.merged_into IS NULL AND EXISTS (
                SELECT 1 FROM new_rows w WHERE w.id = o.id
                AND (w.area_code, w.birth_date, w.merged_into)
                    IS DISTINCT FROM (o.area_code, o.birth_date, o.merged_into))
            UNION ALL
            SELECT w.area_code, w.birth_date, 1 FROM new_rows w
            WHERE w.merged_into IS NULL AND EXISTS (
                SELECT 1 FROM old_rows o WHERE o.id = w.id
                AND (w.area_code, w.birth_date, w.merged_into)
                    IS DISTINCT FROM (o.area_code, o.birth_date, o.merged_into))
        ) d GROUP BY area_code, birth_date HAVING SUM(k) <> 0
        ORDER BY area_code, birth_date
        ON CONFLICT (area_code, birth_date) DO UPDATE SET n = s.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END; $$;
CREATE TRIGGER imm_cohort_sizes_i AFTER INSERT ON people
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION imm_cohort_sizes_apply();
CREATE TRIGGER imm_cohort_sizes_u AFTER UPDATE ON people
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION imm_cohort_sizes_apply();
-- A DELETE has no new rows: its own function, so no query names a missing table.
CREATE FUNCTION imm_cohort_sizes_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imm_cohort_sizes s SET n = s.n - d.k
    FROM (SELECT area_code, birth_date, COUNT(*) AS k FROM old_rows WHERE merged_into IS NULL
          GROUP BY area_code, birth_date) d
    WHERE s.area_code = d.area_code AND s.birth_date = d.birth_date;
    RETURN NULL;
END; $$;
CREATE TRIGGER imm_cohort_sizes_d AFTER DELETE ON people
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION imm_cohort_sizes_forget();
-- postgres:end
