# immunization pillar

## FHIR vaccine code table
fhir-codes-title = FHIR vaccine codes
fhir-codes-intro = How other systems' vaccine codes (CVX, ATC, SNOMED CT, national or vendor codes) map to Bala's products. FHIR import and export use this table; an unmapped code is rejected on import.
fhir-codes-system = Code system (URI)
fhir-codes-code = Code
fhir-codes-product = Bala product
fhir-codes-save = Save mapping
fhir-codes-table = Mappings
home-fhir-codes = FHIR vaccine codes
fhir-codes-delete = Delete
flash-fhir-code-saved = The mapping was saved.
flash-fhir-code-deleted = The mapping was deleted.
err-fhir-system = The code system must be a URI, such as http://hl7.org/fhir/sid/cvx.
err-imm-product = This is not a vaccine product of the calendar.

## Errors of the immunization store
err-cal-exists = A calendar with this id exists; edit that one.
err-cal-toml = The calendar text is not valid; check the line named in the message.
err-date-order = The end is before the start.
err-imm-before-birth = The date is before the child's birth.
err-imm-campaign-age = The child's age is outside the campaign's age range.
err-imm-campaign-area = Write the area code and its target, e.g. 751210000 1200.
err-imm-campaign-dates = The date is outside the campaign's dates.
err-imm-campaign-product = The campaign gives another vaccine.
err-imm-external-id = This dose was imported for another child.
err-import-columns = The file has unknown columns.
err-import-encoding = The file is neither UTF-8 CSV nor an Excel workbook.
err-import-file = The file cannot be read.
