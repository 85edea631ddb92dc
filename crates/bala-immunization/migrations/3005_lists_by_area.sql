-- A district's due list reads its children and their doses. Children of a
-- district are registered over years, interleaved with everyone else's, so
-- by person id their doses sit on thousands of scattered index pages — and
-- every commit anywhere makes SQLite's readers drop their cache and memory map,
-- so each list paid for all of them again (7 000 children: ~14 000 pages, about
-- 70 ms of a 114 ms list). Two indexes keyed by area put a district's rows
-- side by side, and carry every column the list reads (ADR 0016).

-- A dose's area_code was the child's area when the dose was recorded; from
-- now on it is the child's area, kept in step by triggers when the child moves
-- or the dose moves to another record (a merge), whoever makes the change.
-- summary::district_records_doses already meant "a dose of a child living in
-- the district".
UPDATE imm_doses SET area_code = (SELECT p.area_code FROM people p WHERE p.id = imm_doses.person_id)
WHERE area_code <> (SELECT p.area_code FROM people p WHERE p.id = imm_doses.person_id);

-- sqlite:begin
CREATE TRIGGER imm_doses_follow_child AFTER UPDATE OF area_code ON people
WHEN OLD.area_code <> NEW.area_code
BEGIN
    UPDATE imm_doses SET area_code = NEW.area_code WHERE person_id = NEW.id;
END;
CREATE TRIGGER imm_doses_follow_owner AFTER UPDATE OF person_id ON imm_doses
WHEN OLD.person_id <> NEW.person_id
BEGIN
    UPDATE imm_doses SET area_code = (SELECT area_code FROM people WHERE id = NEW.person_id)
    WHERE id = NEW.id;
END;
-- sqlite:end
-- postgres:begin
CREATE FUNCTION imm_doses_follow_child() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imm_doses SET area_code = NEW.area_code WHERE person_id = NEW.id;
    RETURN NULL;
END; $$;
CREATE TRIGGER imm_doses_follow_child AFTER UPDATE OF area_code ON people
FOR EACH ROW WHEN (OLD.area_code IS DISTINCT FROM NEW.area_code)
EXECUTE FUNCTION imm_doses_follow_child();
CREATE FUNCTION imm_doses_follow_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.area_code := (SELECT area_code FROM people WHERE id = NEW.person_id);
    RETURN NEW;
END; $$;
CREATE TRIGGER imm_doses_follow_owner BEFORE UPDATE OF person_id ON imm_doses
FOR EACH ROW WHEN (OLD.person_id IS DISTINCT FROM NEW.person_id)
EXECUTE FUNCTION imm_doses_follow_owner();
-- postgres:end

-- A district's doses from one stretch of one index; replaces the plain
-- area_code index (same leading column, same probe for district_records_doses).
DROP INDEX imm_doses_area;
CREATE INDEX imm_doses_area ON imm_doses (area_code, person_id, status, given_on, id, product, lot_expiry, flags);

-- A district's children with what the list shows, from one stretch of one
-- index; replaces imm_people_area_birth (its prefix).
DROP INDEX imm_people_area_birth;
CREATE INDEX imm_people_list ON people (area_code, birth_date, merged_into, id, sex, family_name, given_name, patronymic, iin, address, phone);
