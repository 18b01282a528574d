#!/usr/bin/env bash
# The attachment and avatar session of issue #4, with nothing but curl (and python3 to read
# JSON). It passes the same way whether the server stores on disk or in S3.
#
#   bash tests/system/storage/curl_session.sh http://127.0.0.1:8000
#
# Exits non-zero at the first answer that differs from the contract; on success prints
# TASK_ID=, KEPT_FILE_ID=, DELETED_FILE_ID=, USER_ID= lines and "curl session passed".
set -euo pipefail

BASE=${1:-http://127.0.0.1:8000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# call OUT CURL-ARGS... : the status code on stdout, the body in OUT.
call() { local out=$1; shift; curl -sS -o "$out" -w '%{http_code}' "$@"; }
expect() { # expect STATUS FILE CODE [BODY]
  [ "$3" = "$1" ] || fail "expected $1, got $3: $(cat "$2")"
  if [ $# -ge 4 ]; then [ "$(cat "$2")" = "$4" ] || fail "expected body $4, got $(cat "$2")"; fi
}

NAME="curl_$(python3 -c 'import uuid; print(uuid.uuid4().hex[:12])')"
PASSWORD=correct-horse-1
code=$(call user.json -X POST "$BASE/auth/register" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$NAME\",\"email\":\"$NAME@example.com\",\"password\":\"$PASSWORD\"}")
expect 201 user.json "$code"
USER_ID=$(field id < user.json)
code=$(call login.json -X POST "$BASE/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$NAME\",\"password\":\"$PASSWORD\"}")
expect 200 login.json "$code"
AUTH="Authorization: Bearer $(field access_token < login.json)"
code=$(call task.json -X POST "$BASE/tasks" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"title":"curl session"}')
expect 201 task.json "$code"
TASK=$(field id < task.json)

# 3 MiB of random binary behind a PDF signature, under a non-ASCII name.
{ printf '%%PDF-1.7\n'; head -c 3145728 /dev/urandom; } > data.pdf
code=$(call up.json -H "$AUTH" -F "file=@data.pdf;type=application/pdf;filename=Résumé.pdf" \
  "$BASE/tasks/$TASK/files")
expect 201 up.json "$code"
FILE=$(field id < up.json)
[ "$(field file_size < up.json)" = "$(stat -c %s data.pdf)" ] || fail "wrong file_size"

code=$(call list.json -H "$AUTH" "$BASE/tasks/$TASK/files")
expect 200 list.json "$code"
[ "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' < list.json)" = 1 ] \
  || fail "list: $(cat list.json)"

code=$(call down.pdf -D headers.txt -H "$AUTH" "$BASE/files/$FILE")
expect 200 /dev/null "$code"
cmp -s data.pdf down.pdf || fail "downloaded bytes differ from the uploaded ones"
tr -d '\r' < headers.txt > h.txt
grep -qix 'content-type: application/pdf' h.txt || fail "content-type: $(cat h.txt)"
grep -qix "content-disposition: attachment; filename\*=utf-8''R%C3%A9sum%C3%A9.pdf" h.txt \
  || fail "content-disposition: $(cat h.txt)"
grep -qix 'x-content-type-options: nosniff' h.txt || fail "nosniff missing"
grep -qix "content-length: $(stat -c %s data.pdf)" h.txt || fail "content-length wrong"

# Exactly 10 MiB is accepted; one byte more is refused, as is a body announced far larger.
head -c 10485760 /dev/zero | tr '\0' 'a' > exact.txt
code=$(call exact.json -H "$AUTH" -F "file=@exact.txt;type=text/plain" "$BASE/tasks/$TASK/files")
expect 201 exact.json "$code"
KEPT=$(field id < exact.json)
printf 'a' | cat exact.txt - > over.txt
TOO_LARGE='{"detail":"File too large. Max size: 10.0 MB"}'
code=$(call over.json -H "$AUTH" -F "file=@over.txt;type=text/plain" "$BASE/tasks/$TASK/files")
expect 400 over.json "$code" "$TOO_LARGE"
cat over.txt over.txt > huge.txt
code=$(call huge.json -H "$AUTH" -F "file=@huge.txt;type=text/plain" "$BASE/tasks/$TASK/files")
expect 400 huge.json "$code" "$TOO_LARGE"

printf 'MZ' > tool.exe
code=$(call exe.json -H "$AUTH" -F "file=@tool.exe" "$BASE/tasks/$TASK/files")
expect 400 exe.json "$code" \
  '{"detail":"File type .exe not allowed. Allowed types: .doc, .docx, .gif, .jpeg, .jpg, .pdf, .png, .txt"}'
printf 'not a picture at all' > fake.png
code=$(call fake.json -H "$AUTH" -F "file=@fake.png;type=image/png" "$BASE/tasks/$TASK/files")
expect 400 fake.json "$code" '{"detail":"File content does not match its type"}'

# Avatar: upload, public download without credentials, profile.
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00' \
  > me.png
code=$(call avatar.json -H "$AUTH" -F "file=@me.png;type=image/png" "$BASE/users/me/avatar")
expect 200 avatar.json "$code" "{\"avatar_url\":\"/users/$USER_ID/avatar.png\"}"
code=$(call got.png -D avatar_headers.txt "$BASE/users/$USER_ID/avatar.png")
expect 200 /dev/null "$code"
cmp -s me.png got.png || fail "avatar bytes differ"
tr -d '\r' < avatar_headers.txt | grep -qix 'content-type: image/png' || fail "avatar type"
code=$(call me.json -H "$AUTH" "$BASE/users/me")
[ "$(field avatar_url < me.json)" = "/users/$USER_ID/avatar.png" ] || fail "avatar_url"

# Delete: 204, then 404.
code=$(call deleted.txt -X DELETE -H "$AUTH" "$BASE/files/$FILE")
expect 204 deleted.txt "$code"
code=$(call gone.json -H "$AUTH" "$BASE/files/$FILE")
expect 404 gone.json "$code" "{\"detail\":\"File with ID $FILE not found\"}"

echo "USER_ID=$USER_ID"
echo "TASK_ID=$TASK"
echo "KEPT_FILE_ID=$KEPT"
echo "DELETED_FILE_ID=$FILE"
echo "curl session passed"
