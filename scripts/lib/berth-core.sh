# shellcheck shell=bash
# The berth CLI's plumbing: one-line errors and exit codes, the HTTP client
# (curl, with the token in a header read from stdin), streamed responses,
# --wait on an operation's server-sent events, and aligned tables (jq).
# Sourced by scripts/berth, never run.

readonly EXIT_API=1 EXIT_USAGE=2 EXIT_UNREACHABLE=3 EXIT_OP_FAILED=4 EXIT_TIMEOUT=5

BERTH_URL=${BERTH_URL:-http://127.0.0.1:7300}
BERTH_URL=${BERTH_URL%/}
readonly CONNECT_TIMEOUT=10 REQUEST_TIMEOUT=120

# The background reader of a streamed response (curl, and cat copying it):
# killed on any exit, so neither outlives the CLI nor keeps a connection open.
STREAM_FD=""
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

# usage_error MESSAGE [COMMAND]: exit 2, pointing at the command's --help.
usage_error() {
  fail "$EXIT_USAGE" USAGE "$1${2:+ (see: berth $2 --help)}"
}

# need_value FLAG "$@"-after-the-flag: the flag must be followed by a value.
need_value() {
  local flag=$1; shift
  if [ $# -eq 0 ] || [ -z "$1" ] || [[ $1 == --* ]]; then usage_error "$flag needs a value" "$CMD"; fi
}

need_int() {
  [[ $2 =~ ^[0-9]+$ ]] || usage_error "$1 must be a whole number, got \"$2\"" "$CMD"
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

# The Authorization header, for curl's "-H @-" on stdin: never an argv element,
# so `ps` and /proc/<pid>/cmdline never show the token.
auth_header() {
  printf 'Authorization: Bearer %s\n' "$BERTH_TOKEN"
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

# api METHOD PATH [JSON]: sets API_STATUS and API_BODY on 2xx; otherwise
# prints the error and exits 1 (API said no) or 3 (no answer).
# Not --fail-with-body: that turns every 4xx into curl exit 22, which reads
# like a transport failure; -w appends the status after the body instead.
api() {
  local method=$1 path=$2 data=${3-} out rc=0
  local args=(-s --path-as-is --connect-timeout "$CONNECT_TIMEOUT" --max-time "$REQUEST_TIMEOUT"
    -X "$method" -H 'Accept: application/json' -H @- -w '\n%{http_code}' --url "$BERTH_URL$path")
  if [ -n "$data" ]; then
    # The body is never secret (slugs, names, scopes), so argv is fine for it.
    args+=(-H 'Content-Type: application/json' --data-binary "$data")
  fi
  out=$(curl "${args[@]}" < <(auth_header)) || rc=$?
  [ "$rc" -eq 0 ] || unreachable "$rc"
  API_STATUS=${out##*$'\n'}
  API_BODY=${out%$'\n'*}
  case $API_STATUS in 2??) return 0 ;; esac
  api_error "$API_STATUS" "$API_BODY"
}

# stream_open PATH [MAX_SECONDS]: GET PATH as a stream on fd STREAM_FD, past
# its headers. Returns curl's exit code if no response came (the caller
# decides), exits 1 with the API's error on a non-2xx status.
# -i puts the status line in the stream itself: a streamed response has no
# trailing -w, and the status must be known before the first body line.
stream_open() {
  local path=$1 max=${2-} line status="" rc=0
  local args=(-s -N -i --path-as-is --connect-timeout "$CONNECT_TIMEOUT" -H @- --url "$BERTH_URL$path")
  [ -z "$max" ] || args+=(--max-time "$max")
  exec {STREAM_FD}< <(exec curl "${args[@]}" < <(auth_header))
  STREAM_PID=$!
  while :; do
    if ! IFS= read -r line <&"$STREAM_FD"; then
      stream_close || rc=$?
      return $((rc == 0 ? 52 : rc))
    fi
    line=${line%$'\r'}
    if [[ $line =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]]; then
      status=${BASH_REMATCH[1]}
    elif [ -z "$line" ] && [ -n "$status" ] && [[ $status != 1?? ]]; then
      break # end of the final response's headers (1xx ones are interim)
    fi
  done
  case $status in 2??) return 0 ;; esac
  line=$(cat <&"$STREAM_FD")
  stream_close || true
  api_error "$status" "$line"
}

# stream_close: stop reading; returns curl's exit code (143 if we stopped it).
stream_close() {
  local rc=0
  [ -n "$STREAM_PID" ] || return 0
  if [ "${1-}" = kill ]; then kill "$STREAM_PID" 2>/dev/null || true; fi
  wait "$STREAM_PID" 2>/dev/null || rc=$?
  exec {STREAM_FD}<&-
  STREAM_PID=""
  return "$rc"
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
readonly SWITCHES=" --json --follow --delete-data --yes "

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

# finish_operation OP_ID WHAT: prints the operation id, or with --wait follows it.
finish_operation() {
  if [ "$WAIT" -eq 1 ]; then
    wait_operation "$1" "$2"
  else
    printf '%s\n' "$1"
  fi
}

# wait_operation OP_ID WHAT: follows /events/stream?operation=OP_ID, printing
# each step on stderr; returns on operation.succeeded, exits 4 on
# operation.failed, 5 after --timeout. The stream replays the operation's past
# events first, so a late or repeated connection still sees how it ended;
# event ids (increasing) keep a reconnect from printing a step twice.
wait_operation() {
  local op=$1 what=$2 timeout=${WAIT_TIMEOUT:-600}
  local deadline=$((SECONDS + timeout)) last=0 retries=0 rc remaining line
  local id="" type="" data=""
  printf '%s: operation %s\n' "$what" "$op" >&2
  while :; do
    remaining=$((deadline - SECONDS))
    [ "$remaining" -gt 0 ] || wait_timed_out "$op" "$what" "$timeout"
    rc=0
    stream_open "/api/v1/events/stream?operation=$(urlenc "$op")" "$remaining" || rc=$?
    if [ "$rc" -eq 0 ]; then
      while IFS= read -r line <&"$STREAM_FD"; do
        line=${line%$'\r'}
        case $line in
          '')
            if [ -n "$data" ] && { ! [[ $id =~ ^[0-9]+$ ]] || [ "$id" -gt "$last" ]; }; then
              [[ ! $id =~ ^[0-9]+$ ]] || last=$id
              retries=0
              if on_event "$type" "$data"; then
                stream_close kill || true
                return 0
              fi
            fi
            id="" type="" data="" ;;
          :*) ;; # a comment: the server's keep-alive
          id:*) id=${line#id:}; id=${id# } ;;
          event:*) type=${line#event:}; type=${type# } ;;
          data:*) line=${line#data:}; data=${data:+$data$'\n'}${line# } ;;
        esac
      done
      stream_close || rc=$?
    fi
    [ $((deadline - SECONDS)) -gt 0 ] || wait_timed_out "$op" "$what" "$timeout"
    # The stream ended or broke before the operation did (an orchestrator
    # restart): reconnect a few times, backing off, then give up.
    retries=$((retries + 1))
    [ "$retries" -le 5 ] || unreachable "$((rc == 0 ? 52 : rc))"
    sleep "$retries"
  done
}

# on_event TYPE DATA: prints a step; returns 0 when the operation succeeded,
# 1 to keep reading; exits 4 when it failed.
on_event() {
  local type=$1 fields jtype step phase seconds code message
  # The server sends the whole event ({type, data: {...}}); accept a bare payload too.
  fields=$(jq -r '(.data // .) as $d | [(.type // ""), ($d.step // ""), ($d.phase // ""), ($d.seconds // "" | tostring), ($d.code // ""), ($d.message // "" | tostring)]
    | map(gsub("[[:cntrl:]]"; " ")) | join("\u001f")' <<<"$2" 2>/dev/null) || return 1
  IFS=$'\x1f' read -r jtype step phase seconds code message <<<"$fields"
  [ -n "$type" ] || type=$jtype
  case $type in
    operation.step) [ -z "$step" ] || printf '  %s\n' "$step" >&2 ;;
    operation.succeeded)
      printf 'succeeded%s%s\n' "${seconds:+ in ${seconds}s}" "${phase:+: $phase}" >&2
      return 0 ;;
    operation.failed)
      fail "$EXIT_OP_FAILED" "${code:-OPERATION_FAILED}" "${message:-the operation failed}${phase:+ (phase now $phase)}" ;;
  esac
  return 1
}

wait_timed_out() {
  stream_close kill || true
  fail "$EXIT_TIMEOUT" TIMEOUT "gave up after $3 s waiting for $2 (operation $1); it may still be running (see berth tenant status)"
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
