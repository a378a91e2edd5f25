# shellcheck shell=bash
# The berth CLI's plumbing: one-line errors and exit codes, argument parsing,
# the HTTP client (curl, with the token in a header read from stdin) and
# aligned tables (jq). Streams and --wait are in berth-wait.sh.
# Sourced by scripts/berth, never run.

# shellcheck disable=SC2034 # 4 and 5 are used by berth-wait.sh
readonly EXIT_API=1 EXIT_USAGE=2 EXIT_UNREACHABLE=3 EXIT_OP_FAILED=4 EXIT_TIMEOUT=5

BERTH_URL=${BERTH_URL:-http://127.0.0.1:7300}
BERTH_URL=${BERTH_URL%/}
readonly CONNECT_TIMEOUT=10 REQUEST_TIMEOUT=120

# The background readers of a streamed response (berth-wait.sh: curl, and cat
# copying it): killed on any exit, so neither outlives the CLI nor keeps a
# connection to the API open.
STREAM_PID=""
COPY_PID=""

cleanup() {
  if [ -n "$COPY_PID" ]; then kill "$COPY_PID" 2>/dev/null || true; fi
  if [ -n "$STREAM_PID" ]; then kill "$STREAM_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
# A trapped signal interrupts `wait` and `read` at once; exiting then runs cleanup.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# fail STATUS CODE MESSAGE...: exactly one line "berth: CODE: message" on stderr, then exit.
fail() {
  local status=$1 code=$2; shift 2
  local msg="$*"
  msg=${msg//$'\r'/ }
  msg=${msg//$'\n'/ }
  printf 'berth: %s: %s\n' "$code" "$msg" >&2
  exit "$status"
}

# The command being run ("tenant create"), for messages that point at its --help.
CMD=""

# usage_error MESSAGE [COMMAND]: exit 2, pointing at the command's --help.
usage_error() {
  fail "$EXIT_USAGE" USAGE "$1${2:+ (see: berth $2 --help)}"
}

# need_value FLAG "$@"-after-the-flag: the flag must be followed by a value.
need_value() {
  local flag=$1; shift
  if [ $# -eq 0 ] || [ -z "$1" ] || [[ $1 == --* ]]; then usage_error "$flag needs a value" "$CMD"; fi
}

# need_int FLAG VALUE: a whole number (at most 9 digits: bash arithmetic must not overflow).
need_int() {
  [[ $2 =~ ^[0-9]{1,9}$ ]] || usage_error "$1 must be a whole number, got \"$2\"" "$CMD"
}

# ARGS: "$@" with every --flag=value split into --flag value (not after "--").
split_args() {
  ARGS=()
  local a rest=0
  for a in "$@"; do
    if [ "$rest" -eq 0 ] && [[ $a == --?*=* ]]; then
      ARGS+=("${a%%=*}" "${a#*=}")
    else
      [ "$a" != -- ] || rest=1
      ARGS+=("$a")
    fi
  done
}

check_env() {
  local -; set +x # keep the token out of a `bash -x` trace
  command -v curl >/dev/null 2>&1 || fail "$EXIT_USAGE" MISSING_TOOL "curl is not installed (Debian: apt-get install -y curl)"
  command -v jq >/dev/null 2>&1 || fail "$EXIT_USAGE" MISSING_TOOL "jq is not installed (Debian: apt-get install -y jq)"
  [[ $BERTH_URL =~ ^https?://[^[:space:]/]+(/[^[:space:]]*)?$ ]] \
    || fail "$EXIT_USAGE" BAD_URL "BERTH_URL must be http(s)://host[:port][/prefix], got \"$BERTH_URL\""
  [ -n "${BERTH_TOKEN:-}" ] || fail "$EXIT_USAGE" NO_TOKEN \
    'BERTH_TOKEN is not set: export BERTH_TOKEN=<token>; an admin makes one with "berth token create --name NAME --scope read|write|admin" (on the host: node orchestrator/dist/cli/token.js create ...; scripts/platform-up prints the first admin token)'
  # A newline would smuggle extra headers into the request; a token is one printable word.
  [[ $BERTH_TOKEN =~ ^[[:graph:]]+$ ]] || fail "$EXIT_USAGE" NO_TOKEN \
    'BERTH_TOKEN holds spaces or control characters; tokens look like berth_<id>_<secret>'
}

urlenc() {
  jq -rn --arg v "$1" '$v | @uri'
}

curl_reason() {
  case $1 in
    6) echo "could not resolve the host" ;;
    7) echo "could not connect (refused or unreachable)" ;;
    28) echo "timed out" ;;
    35 | 51 | 58 | 60 | 77 | 83 | 90 | 91) echo "TLS handshake or certificate problem" ;;
    52) echo "the server closed the connection without answering" ;;
    18 | 56) echo "the connection broke mid-response" ;;
    *) echo "curl failed" ;;
  esac
}

unreachable() {
  fail "$EXIT_UNREACHABLE" UNREACHABLE "cannot reach the Berth API at $BERTH_URL: $(curl_reason "$1") (curl exit $1); is the orchestrator running and BERTH_URL right?"
}

# api_error STATUS BODY: the API's {"error":{code,message}} as one line, exit 1.
api_error() {
  local status=$1 body=$2 code message
  code=$(jq -r '.error.code // empty' <<<"$body" 2>/dev/null || true)
  if [[ $code =~ ^[A-Z][A-Z0-9_]*$ ]]; then
    message=$(jq -r '.error.message // "" | tostring' <<<"$body" 2>/dev/null || true)
    fail "$EXIT_API" "$code" "${message:-HTTP $status}"
  fi
  body=$(tr -s '[:space:]' ' ' <<<"$body" | cut -c1-200)
  fail "$EXIT_API" "HTTP_$status" "the API answered HTTP $status${body:+: $body}"
}

# Every request takes its Authorization header from stdin (curl -H @-, a
# here-string): never an argv element, so ps and /proc/<pid>/cmdline never
# show the token. --disable (first) ignores ~/.curlrc, which could add -v
# (printing that header) or --fail.

# api METHOD PATH [JSON]: sets API_STATUS and API_BODY on 2xx; otherwise
# prints the error and exits 1 (API said no) or 3 (no answer).
# Not --fail-with-body: that turns every 4xx into curl exit 22, which reads
# like a transport failure; -w appends the status after the body instead.
api() {
  local -; set +x # keep the token out of a `bash -x` trace
  local method=$1 path=$2 data=${3-} out rc=0
  local args=(--disable -s --path-as-is --connect-timeout "$CONNECT_TIMEOUT" --max-time "$REQUEST_TIMEOUT"
    -X "$method" -H 'Accept: application/json' -H @- -w '\n%{http_code}' --url "$BERTH_URL$path")
  if [ -n "$data" ]; then
    # The body is never secret (slugs, names, scopes), so argv is fine for it.
    args+=(-H 'Content-Type: application/json' --data-binary "$data")
  fi
  out=$(curl "${args[@]}" <<<"Authorization: Bearer $BERTH_TOKEN") || rc=$?
  [ "$rc" -eq 0 ] || unreachable "$rc"
  API_STATUS=${out##*$'\n'}
  API_BODY=${out%$'\n'*}
  case $API_STATUS in 2??) ;; *) api_error "$API_STATUS" "$API_BODY" ;; esac
  if [ -n "$API_BODY" ] && ! jq -e . >/dev/null 2>&1 <<<"$API_BODY"; then
    bad_response "HTTP $API_STATUS without JSON"
  fi
}

# The API answered, but not as this CLI expects (another service at BERTH_URL,
# another API version).
bad_response() {
  fail "$EXIT_API" BAD_RESPONSE "unexpected answer from $BERTH_URL ($1); is BERTH_URL a Berth API of this version?"
}

# render JQ_ARGS...: jq over API_BODY to stdout. A jq error means an answer of
# an unexpected shape (exit 1, not jq's own codes, which mean other things
# here); a signal (a closed pipe: berth ... | head) exits quietly.
render() {
  local rc=0
  jq "$@" <<<"$API_BODY" 2>/dev/null || rc=$?
  [ "$rc" -eq 0 ] && return 0
  [ "$rc" -lt 128 ] || exit "$rc"
  bad_response "jq could not read it"
}

# render_table PROGRAM: with --json the answer as the API gave it (for
# machines); else the aligned table the jq PROGRAM builds with JQ_TABLE's table.
render_table() {
  if [ -n "${OPTS[--json]-}" ]; then
    render .
  else
    render -r "$JQ_TABLE$1"
  fi
}

# operation_id: the id of the operation API_BODY announces.
operation_id() {
  local id
  id=$(jq -r '.operation.id // empty' <<<"$API_BODY")
  [[ $id =~ ^[A-Za-z0-9_.:-]+$ ]] || bad_response "no operation id"
  printf '%s\n' "$id"
}

# parse_args HELP_FN FLAGS POS_NAME "$@": the flags listed in FLAGS (one
# string) into OPTS[--flag] (1 for a switch), at most one positional argument
# named POS_NAME (e.g. "<slug>"; none allowed if empty) into POS. -h/--help
# prints HELP_FN and exits 0. SWITCHES take no value; other flags take one.
# shellcheck disable=SC2034 # OPTS and POS are read by the command files
declare -A OPTS=()
POS=""
POS_NAME=""
FLAGS=""
readonly SWITCHES=" --json --follow --delete-data --yes --all --auto-approve "

# shellcheck disable=SC2034 # OPTS is read by the command files
parse_args() {
  local help=$1
  FLAGS=$2 POS_NAME=$3
  shift 3
  split_args "$@"
  set -- "${ARGS[@]+"${ARGS[@]}"}"
  while [ $# -gt 0 ]; do
    if [[ " $FLAGS " == *" --wait "* ]]; then
      parse_wait_flag "$@"
      if [ "$WAIT_USED" -gt 0 ]; then shift "$WAIT_USED"; continue; fi
    fi
    case $1 in
      -h | --help) "$help"; exit 0 ;;
      --) shift
        [ $# -le 1 ] || usage_error "unexpected argument \"$2\"" "$CMD"
        [ $# -eq 0 ] || set_pos "$1"
        break ;;
      -?*)
        [[ " $FLAGS " == *" $1 "* ]] || usage_error "unknown flag $1" "$CMD"
        if [[ $SWITCHES == *" $1 "* ]]; then
          OPTS[$1]=1; shift
        else
          need_value "$1" "${@:2}"; OPTS[$1]=$2; shift 2
        fi ;;
      *) set_pos "$1"; shift ;;
    esac
  done
  check_wait_flags
  if [ -n "$POS_NAME" ] && [ -z "$POS" ]; then usage_error "missing $POS_NAME" "$CMD"; fi
}

set_pos() {
  if [ -z "$POS_NAME" ] || [ -n "$POS" ]; then usage_error "unexpected argument \"$1\"" "$CMD"; fi
  [ -n "$1" ] || usage_error "$POS_NAME must not be empty" "$CMD"
  POS=$1
}

# Operation --wait settings, set by the flag parsers.
WAIT=0
WAIT_TIMEOUT=""

# parse_wait_flag "$@": handles --wait and --timeout S; sets WAIT_USED to how
# many arguments it took (0: not one of its flags).
# shellcheck disable=SC2034 # WAIT_USED is read by parse_args
parse_wait_flag() {
  case $1 in
    --wait) WAIT=1; WAIT_USED=1 ;;
    --timeout) shift; need_value --timeout "$@"; need_int --timeout "$1"
      [ "$1" -gt 0 ] || usage_error "--timeout must be at least 1 second" "$CMD"
      WAIT_TIMEOUT=$1; WAIT_USED=2 ;;
    *) WAIT_USED=0 ;;
  esac
}

check_wait_flags() {
  [ -z "$WAIT_TIMEOUT" ] || [ "$WAIT" -eq 1 ] || usage_error "--timeout only makes sense with --wait" "$CMD"
}

# A jq function: rows (arrays) → lines with every column padded to its widest cell.
# shellcheck disable=SC2016,SC2034 # jq code, not shell; used by the command files
readonly JQ_TABLE='
def cell: if . == null or . == "" then "-" else tostring | gsub("[[:cntrl:]]"; " ") end;
def table: map(map(cell)) as $rows
  | [range(0; $rows[0] | length) as $i | $rows | map(.[$i] | length) | max] as $w
  | $rows[] | [range(0; length) as $i | .[$i] + (" " * ($w[$i] - (.[$i] | length)) // "")]
  | join("  ") | sub(" +$"; "");
'
