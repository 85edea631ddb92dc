-- A version number that moves whenever anything coverage is computed from
-- changes: the counters, official target populations, the register (cohort
-- sizes) and the area tree. Coverage answers are cached per version (ADR 0014),
-- so a repeat is a one-row read, and a change made by any path — the card, an
-- import, another process, raw SQL — is seen at once. Triggers, not calls in
-- the code, so no writer can forget it. SQLite has one writer at a time, so its
-- triggers simply add one to a counter row.
CREATE TABLE data_versions (
    name TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
INSERT INTO data_versions (name, n) VALUES ('coverage', 0);

-- sqlite:begin
CREATE TRIGGER coverage_v_counts_i AFTER INSERT ON imm_counts BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_counts_u AFTER UPDATE ON imm_counts BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_counts_d AFTER DELETE ON imm_counts BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_pop_i AFTER INSERT ON imm_target_population BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_pop_u AFTER UPDATE ON imm_target_population BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_pop_d AFTER DELETE ON imm_target_population BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_people_i AFTER INSERT ON people BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_people_u AFTER UPDATE ON people BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_people_d AFTER DELETE ON people BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_areas_i AFTER INSERT ON areas BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_areas_u AFTER UPDATE ON areas BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
CREATE TRIGGER coverage_v_areas_d AFTER DELETE ON areas BEGIN UPDATE data_versions SET n = n + 1 WHERE name = 'coverage'; END;
-- sqlite:end
-- PostgreSQL runs writers concurrently: a shared counter row would make every
-- writer of people queue behind every other (and deadlock two that update the
-- same people in different orders). Instead each writing transaction adds one
-- row keyed by its own id; the version is the counter plus the rows, read in
-- one statement, and Bala folds the rows into the counter now and then.
-- postgres:begin
CREATE TABLE data_changes (
    xid BIGINT PRIMARY KEY
);
CREATE FUNCTION coverage_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_changes (xid) VALUES (pg_current_xact_id()::text::bigint) ON CONFLICT DO NOTHING;
    RETURN NULL;
END; $$;
CREATE TRIGGER coverage_v_counts AFTER INSERT OR UPDATE OR DELETE ON imm_counts
FOR EACH STATEMENT EXECUTE FUNCTION coverage_version_bump();
CREATE TRIGGER coverage_v_pop AFTER INSERT OR UPDATE OR DELETE ON imm_target_population
FOR EACH STATEMENT EXECUTE FUNCTION coverage_version_bump();
CREATE TRIGGER coverage_v_people AFTER INSERT OR UPDATE OR DELETE ON people
FOR EACH STATEMENT EXECUTE FUNCTION coverage_version_bump();
CREATE TRIGGER coverage_v_areas AFTER INSERT OR UPDATE OR DELETE ON areas
FOR EACH STATEMENT EXECUTE FUNCTION coverage_version_bump();
-- postgres:end
-- sqlite:begin
CREATE TABLE data_changes (
    xid BIGINT PRIMARY KEY
);
-- sqlite:end
