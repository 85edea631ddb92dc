-- Zero-dose and under-immunized children are judged at their first birthday
-- (no DTP1, or DTP1 without DTP3, by 12 months). For a cohort still turning
-- one — last year's, the coverage dashboard's default, for the whole year —
-- only the children already one count, so the per-year counters could not
-- answer and the children were read one by one (up to half a national
-- cohort: about a second on SQLite, several on PostgreSQL). These counters
-- hold, per (area, birth date), the children's valid DTP1 and DTP3 doses by
-- 12 months, so the children born up to any date are a sum over at most 366
-- rows per area (as `imm_cohort_sizes` does for the denominator, 3007). The
-- facts now keep the child's birth date, not only the year, so a correction
-- takes the counted doses off the right day (ADR 0022).
ALTER TABLE imm_valid_doses ADD COLUMN birth_date TEXT NOT NULL DEFAULT '';
UPDATE imm_valid_doses SET birth_date = COALESCE(
    (SELECT p.birth_date FROM people p WHERE p.id = imm_valid_doses.person_id), '');
CREATE TABLE imm_judged (
    area_code TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    dtp1 BIGINT NOT NULL,
    dtp3 BIGINT NOT NULL,
    PRIMARY KEY (birth_date, area_code)
) {{WITHOUT_ROWID}};
INSERT INTO imm_judged (area_code, birth_date, dtp1, dtp3)
SELECT area_code, birth_date,
    SUM(CASE WHEN label = 'DTP1' THEN 1 ELSE 0 END), SUM(CASE WHEN label = 'DTP3' THEN 1 ELSE 0 END)
FROM imm_valid_doses WHERE by_12m = 1 AND label IN ('DTP1', 'DTP3')
GROUP BY area_code, birth_date;
-- Coverage answers are cached per version (3003): these counters move it too.
-- sqlite:begin
CREATE TRIGGER coverage_v_judged_i AFTER INSERT ON imm_judged BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_judged_u AFTER UPDATE ON imm_judged BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_judged_d AFTER DELETE ON imm_judged BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
-- sqlite:end
-- postgres:begin
CREATE TRIGGER coverage_v_judged AFTER INSERT OR UPDATE OR DELETE ON imm_judged
FOR EACH STATEMENT EXECUTE FUNCTION coverage_version_bump();
-- postgres:end
