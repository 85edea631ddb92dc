# immunization pillar

## Таблица кодов вакцин FHIR
fhir-codes-title = Коды вакцин FHIR
fhir-codes-intro = Соответствие кодов вакцин других систем (CVX, ATC, SNOMED CT, национальные коды и коды производителей) препаратам Bala. Импорт и экспорт FHIR используют эту таблицу; код без соответствия при импорте отклоняется.
fhir-codes-system = Система кодов (URI)
fhir-codes-code = Код
fhir-codes-product = Препарат Bala
fhir-codes-save = Сохранить соответствие
fhir-codes-table = Соответствия
home-fhir-codes = Коды вакцин FHIR
fhir-codes-delete = Удалить
flash-fhir-code-saved = Соответствие сохранено.
flash-fhir-code-deleted = Соответствие удалено.
err-fhir-system = Система кодов должна быть URI, например http://hl7.org/fhir/sid/cvx.
err-imm-product = Это не препарат из календаря прививок.

## Ошибки хранилища иммунизации
err-cal-exists = Календарь с таким идентификатором уже есть; измените его.
err-cal-toml = Текст календаря некорректен; проверьте указанную строку.
err-date-order = Окончание раньше начала.
err-imm-before-birth = Дата раньше рождения ребёнка.
err-imm-campaign-age = Возраст ребёнка вне возрастных рамок кампании.
err-imm-campaign-area = Укажите код территории и целевую численность, например 751210000 1200.
err-imm-campaign-dates = Дата вне сроков кампании.
err-imm-campaign-product = В кампании вводится другая вакцина.
err-imm-external-id = Эта доза импортирована для другого ребёнка.
err-import-columns = В файле есть неизвестные столбцы.
err-import-encoding = Файл не является ни CSV в UTF-8, ни книгой Excel.
err-import-file = Файл не удаётся прочитать.
