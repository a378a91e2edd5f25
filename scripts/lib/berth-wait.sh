# shellcheck shell=bash
# The berth CLI's streamed responses: GET as a stream (logs --follow, events),
# and --wait, which follows an operation's server-sent events until it ends.
# Sourced by scripts/berth after berth-core.sh, never run.

STREAM_FD=""

# stream_open PATH [MAX_SECONDS]: GET PATH as a stream on fd STREAM_FD, past
# its headers. Returns curl's exit code if no response came (the caller
# decides), exits 1 with the API's error on a non-2xx status.
# -i puts the status line in the stream itself: a streamed response has no
# trailing -w, and the status must be known before the first body line.
stream_open() {
  local -; set +x # keep the token out of a `bash -x` trace
  local path=$1 max=${2-} line status="" rc=0
  local args=(--disable -s -N -i --path-as-is --connect-timeout "$CONNECT_TIMEOUT" -H @- --url "$BERTH_URL$path")
  [ -z "$max" ] || args+=(--max-time "$max")
  exec {STREAM_FD}< <(exec curl "${args[@]}" <<<"Authorization: Bearer $BERTH_TOKEN")
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

# finish_operation WHAT: the operation the API just accepted (API_BODY): print
# its id, or with --wait follow it to its end.
finish_operation() {
  local op
  op=$(operation_id)
  if [ "$WAIT" -eq 1 ]; then
    wait_operation "$op" "$1"
  else
    printf '%s\n' "$op"
  fi
}

# wait_operation OP_ID WHAT: follows /events/stream?operation=OP_ID, printing
# each step on stderr; returns on operation.succeeded, exits 4 on
# operation.failed, 5 after --timeout.
wait_operation() {
  printf '%s: operation %s\n' "$2" "$1" >&2
  follow_events "$1" "$2" on_event "berth tenant status" operation
}

# follow_events ID WHAT HANDLER HINT NOUN: reads /events/stream?operation=ID
# and calls HANDLER TYPE DATA for each event until it returns 0; exits 5
# after --timeout (HINT: the command that shows how it stands; NOUN: what ID
# is). The stream replays the past events first, so a late or repeated
# connection still sees how it ended; event ids (increasing) keep a
# reconnect from printing one twice.
follow_events() {
  local op=$1 what=$2 handler=$3 hint=$4 noun=$5 timeout=${WAIT_TIMEOUT:-600}
  local deadline=$((SECONDS + timeout)) last=0 retries=0 rc remaining line
  local id="" type="" data=""
  while :; do
    remaining=$((deadline - SECONDS))
    [ "$remaining" -gt 0 ] || wait_timed_out "$op" "$what" "$timeout" "$hint" "$noun"
    rc=0 id="" type="" data=""
    stream_open "/api/v1/events/stream?operation=$(urlenc "$op")" "$remaining" || rc=$?
    if [ "$rc" -eq 0 ]; then
      while IFS= read -r line <&"$STREAM_FD"; do
        line=${line%$'\r'}
        case $line in
          '')
            if [ -n "$data" ] && { ! [[ $id =~ ^[0-9]+$ ]] || [ "$id" -gt "$last" ]; }; then
              [[ ! $id =~ ^[0-9]+$ ]] || last=$id
              retries=0
              if "$handler" "$type" "$data"; then
                stream_close kill || true
                return 0
              fi
            fi
            id="" type="" data="" ;;
          :*) ;; # a comment: the server's "connected" and keep-alive
          id:*) id=${line#id:}; id=${id# } ;;
          event:*) type=${line#event:}; type=${type# } ;;
          data:*) line=${line#data:}; data=${data:+$data$'\n'}${line# } ;;
        esac
      done
      stream_close || rc=$?
    fi
    [ $((deadline - SECONDS)) -gt 0 ] || wait_timed_out "$op" "$what" "$timeout" "$hint" "$noun"
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
      [[ $code =~ ^[A-Z][A-Z0-9_]*$ ]] || code=OPERATION_FAILED
      fail "$EXIT_OP_FAILED" "$code" "${message:-the operation failed}${phase:+ (phase now $phase)}" ;;
  esac
  return 1
}

wait_timed_out() {
  stream_close kill || true
  # shellcheck disable=SC2153 # EXIT_TIMEOUT is defined in berth-core.sh
  fail "$EXIT_TIMEOUT" TIMEOUT "gave up after $3 s waiting for $2 ($5 $1); it may still be running (see $4)"
}

