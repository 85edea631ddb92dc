-- A child's recorded doses, in date order, from the index alone: the card, the
-- engine and the due lists read a whole district's children this way, and a
-- plain person_id index sent every dose row to a random table page (a due
-- list of 7 000 children read 63 000 pages). The columns the engine needs ride
-- along, so the table is not touched.
DROP INDEX imm_doses_person;
CREATE INDEX imm_doses_person ON imm_doses (person_id, status, given_on, id, product, lot_expiry, flags);

-- The children of an area born in a period, from the index alone (the due
-- lists join their doses and exceptions to this selection).
CREATE INDEX imm_people_area_birth ON people (area_code, birth_date, merged_into);
