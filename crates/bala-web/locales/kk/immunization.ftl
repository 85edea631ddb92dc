# immunization pillar

## FHIR вакцина кодтарының кестесі
fhir-codes-title = FHIR вакцина кодтары
fhir-codes-intro = Басқа жүйелердің вакцина кодтарының (CVX, ATC, SNOMED CT, ұлттық және өндіруші кодтары) Bala препараттарына сәйкестігі. FHIR импорты мен экспорты осы кестені пайдаланады; сәйкестігі жоқ код импорт кезінде қабылданбайды.
fhir-codes-system = Кодтар жүйесі (URI)
fhir-codes-code = Код
fhir-codes-product = Bala препараты
fhir-codes-save = Сәйкестікті сақтау
fhir-codes-table = Сәйкестіктер
home-fhir-codes = FHIR вакцина кодтары
fhir-codes-delete = Жою
flash-fhir-code-saved = Сәйкестік сақталды.
flash-fhir-code-deleted = Сәйкестік жойылды.
err-fhir-system = Кодтар жүйесі URI болуы керек, мысалы http://hl7.org/fhir/sid/cvx.
err-imm-product = Бұл екпе күнтізбесіндегі препарат емес.

## Иммундау қоймасының қателері
err-cal-exists = Мұндай идентификаторы бар күнтізбе бар; соны өзгертіңіз.
err-cal-toml = Күнтізбе мәтіні дұрыс емес; көрсетілген жолды тексеріңіз.
err-date-order = Аяқталуы басталуынан ерте.
err-imm-before-birth = Күн баланың туған күнінен ерте.
err-imm-campaign-age = Баланың жасы науқанның жас шегінен тыс.
err-imm-campaign-area = Аумақ кодын және мақсатты санын жазыңыз, мысалы 751210000 1200.
err-imm-campaign-dates = Күн науқан мерзімінен тыс.
err-imm-campaign-product = Науқанда басқа вакцина салынады.
err-imm-external-id = Бұл доза басқа бала үшін импортталған.
err-import-columns = Файлда белгісіз бағандар бар.
err-import-encoding = Файл UTF-8 CSV те, Excel кітабы да емес.
err-import-file = Файлды оқу мүмкін емес.
