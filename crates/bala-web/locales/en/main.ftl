# Bala — English. Every message here must exist in kk/ and ru/ too (tested).

skip-to-content = Skip to content
nav-label = Main navigation
nav-home = Home
nav-people = People
nav-areas = Areas
nav-users = Users
nav-audit = Audit trail
nav-account = My account
lang-label = Language
logout = Sign out
footer-text = Bala — information system for children's rights in Kazakhstan. Personal data is protected by the Law on Personal Data and its Protection; every access is recorded.
back-home = Back to the home page
search = Search
save = Save
cancel = Cancel
edit = Edit
merge = Merge
history = History
copy = Copy
confirm-generic = Are you sure?
form-has-errors = Please correct the fields marked below.
all-areas = All my areas

# Errors shown as pages or problem documents
error-not-found = Not found
error-unauthenticated = Please sign in
error-forbidden = You do not have permission for this
error-validation = Some fields are not valid
error-bad-request = The request could not be understood
error-csrf = The form has expired. Go back, reload the page and try again.
error-too-many = Too many attempts. Please wait and try again.
error-internal = Something went wrong on our side. The error was recorded.
error-reference = Reference for support: { $ref }

# Sign in
login-title = Sign in to Bala
login-submit = Sign in
login-failed = The username or password is not correct.
login-throttled = Too many failed attempts. Wait 15 minutes and try again.
field-username = Username
field-password = Password

# Home
home-welcome = Welcome, { $name }
home-role = Role: { $role }
home-people = people in your areas
home-children = children under 18
home-areas = areas you work in

# Roles
role-admin = System administrator
role-analyst = National analyst
role-regional-manager = Regional manager
role-health-worker = District health worker
role-social-worker = District social worker
role-supervisor = Supervisor

# People register
people-title = People register
people-search-q = IIN or name
people-search-hint = e.g. 240501… or Nurlan / Нұрлан
people-found = { $count ->
    [one] { $count } person found
   *[other] { $count } people found
}
person-new = Register a person
person-edit = Edit person
field-name = Name
field-family-name = Family name
field-given-name = Given name
field-patronymic = Patronymic
field-family-name-lat = Family name in Latin letters (as in passport)
field-given-name-lat = Given name in Latin letters
field-latin-name = Name in Latin letters
field-iin = IIN
field-birth-date = Date of birth
field-sex = Sex
field-area = Area
field-address = Address
field-phone = Phone
field-household = Household
field-updated = Last changed
field-age-group = Age group
age-child = Children (under 18)
age-adult = Adults
age-months = { $m } mo
age-years = { $y } y
sex-m = Male
sex-f = Female
no-iin = no IIN
hint-iin = 12 digits. Leave empty for a newborn or migrant without an IIN.
dup-title = This person may already be registered
dup-explain = These records have the same date of birth and area, and the same names in another spelling. Open them to check. If this is really a different person, tick the box below and save again.
dup-confirm = I checked: this is a different person
person-merged-notice = This record was merged into another record.
person-open-survivor = Open the record kept
pager-label = Pages
pager-prev = Previous
pager-next = Next
pager-older = Older entries
pager-status = Page { $page } of { $pages }

# Relations and households
relations-title = Family and caregivers
relations-none = No relatives recorded.
relation = Relation
relation-add = Add relative
relation-add-who = Relative (record number or IIN)
relation-add-hint = Register the relative first if they are not in the register.
relation-add-kind = Is this person's
rel-mother = Mother
rel-father = Father
rel-guardian = Guardian
rel-foster-parent = Foster parent
rel-grandparent = Grandparent
rel-sibling = Sibling
rel-other-relative = Other relative
rel-inverse-mother = Child (mother of)
rel-inverse-father = Child (father of)
rel-inverse-guardian = Ward (guardian of)
rel-inverse-foster-parent = Foster child
rel-inverse-grandparent = Grandchild
rel-inverse-sibling = Sibling
rel-inverse-other-relative = Relative
unlink = Remove
confirm-unlink = Remove this relation?
household-number = Household No. { $id }
household-members = Members
household-set = Household number
household-new-hint = empty = start a new household
household-save = Save household

# Merge
merge-title = Merge duplicate records
merge-explain = The record below is kept. The duplicate you choose is merged into it: its relations and records move here, its details fill the empty fields, and both histories are kept. The merge is recorded in the audit trail.
merge-keeps = Record kept:
merge-candidates = Likely duplicates
merge-no-candidates = No likely duplicates found automatically. You can give the record number of the duplicate.
merge-this = Merge into the kept record
merge-by-id = Record number of the duplicate
merge-confirm = Merge these records? This cannot be undone from the interface.

# History
history-when = When
history-who = By
history-record = Record
history-version = Version

# Areas
area-kato = KATO code
area-kind = Kind
area-name = Name
area-names = Names
area-stat-code = Statistics code
area-valid-from = Exists since
area-valid-to = Existed until
area-split-from = Separated from
area-inside = Areas inside
area-validity = Validity
area-from = from { $date }
area-until = until { $date }
area-unverified = code not verified
area-unverified-hint = This code follows the KATO pattern but was not checked against the official classifier.
area-kind-republic = Republic
area-kind-region = Region
area-kind-city-republican = City of republican significance
area-kind-district = District
area-kind-city-district = City district
area-kind-city-regional = City of regional significance
area-kind-rural-district = Rural district
area-kind-settlement = Settlement

# Users (administration)
users-title = Users
user-new = New user
user-edit = Edit user
field-display-name = Full name
field-role = Role
field-scope = Area of work
field-status = Status
field-new-password = New password
field-current-password = Current password
hint-password = At least 10 characters, not containing the username.
user-active = active
user-disabled = disabled
user-disable = Disable account
user-enable = Enable account
user-password-reset = Set a new password
user-password-set = Set password

# Audit
audit-title = Audit trail
audit-when = When
audit-actor = Who
audit-action = Action
audit-record = Record
audit-record-type = Record type
audit-record-id = Record number
audit-address = Address
audit-details = Details
audit-from = From date
audit-to = To date

# Account and tokens
account-password = Change my password
account-password-change = Change password
tokens-title = API tokens
tokens-explain = Tokens let other systems use the Bala API as you, with your areas. A read-only token cannot change anything. Revoke a token as soon as it is no longer needed.
token-name = Name
token-prefix = Token
token-scope = Access
token-scope-read = Read only
token-scope-read-write = Read and write
token-created-at = Created
token-last-used = Last used
token-revoke = Revoke
token-revoked = revoked
token-create = Create token
token-created = Your new token is shown only once. Copy it now and keep it secret:

# Messages after an action
flash-person-created = The person was registered.
flash-person-saved = The changes were saved.
flash-person-merged = The records were merged.
flash-relation-added = The relative was added.
flash-relation-removed = The relation was removed.
flash-household-saved = The household was saved.
flash-user-created = The user was created.
flash-user-saved = The user was saved. Their open sessions were ended.
flash-user-disabled = The account was disabled and its tokens revoked.
flash-user-enabled = The account was enabled.
flash-password-set = The password was set. The user's sessions were ended.
flash-password-changed = Your password was changed. Please sign in again.
flash-token-revoked = The token was revoked.
