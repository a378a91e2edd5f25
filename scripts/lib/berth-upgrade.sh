# shellcheck shell=bash
# berth upgrade ... and berth versions: bulk upgrades of the tenants' app
# (canary, rolling, approval, pause/resume/cancel, rollback) and the versions
# there are. Sourced by scripts/berth after berth-wait.sh, never run.

upgrade_usage() {
  cat <<'TXT'
Usage: berth upgrade --to VERSION (--all | --tenants A,B | --filter K=V,...) [options]
       berth upgrade <command> [arguments]

  --to VERSION ...          start an upgrade job (see "berth upgrade --help")
  preview --to VERSION ...  the tenants such a job would touch; starts nothing
  list [--json]
  status <job> [--json]
  approve <job>             let a job waiting after its canary go on
  pause|resume|cancel <job>
  rollback <job> [--tenants A,B] [--wait [--timeout S]]

Versions are the tags of the tenant-app image on the platform's host:
"berth versions"; scripts/build-images --only app --app-version X makes one.
TXT
}

help_upgrade_start() {
  cat <<'TXT'
Usage: berth upgrade --to VERSION (--all | --tenants A,B | --filter K=V,...)
                     [--canary N] [--concurrency N] [--max-failures N]
                     [--auto-approve] [--health-timeout S] [--wait [--timeout S]] [--json]

Starts an upgrade job: the first N tenants (the canary) one batch, then the
rest N at a time, each with a zero-downtime swap (the new app starts beside
the old one; nginx moves over once it is healthy). Prints the job id.

  --to VERSION       the tenant-app version (see "berth versions")
  --all              every tenant
  --tenants A,B      these tenants
  --filter K=V,...   tenants matching all of phase=P, version=V, prefix=P
  --canary N         tenants upgraded first (default 1)
  --concurrency N    tenants at once after the canary (default 2)
  --max-failures N   failures after the canary that halt the job once passed (default 0)
  --auto-approve     go on after a healthy canary (default: wait for
                     "berth upgrade approve <job>" or the console)
  --health-timeout S how long a new app may take to pass /healthz
  --wait             follow the job on stderr; exit 0 when every tenant is
                     upgraded, 4 when any failed or the job halted or was
                     cancelled, 5 after --timeout S (default 600)
  --json             the job as the API's JSON instead of its id
TXT
}

help_upgrade_preview() {
  cat <<'TXT'
Usage: berth upgrade preview --to VERSION (--all | --tenants A,B | --filter K=V,...) [--canary N] [--json]

Lists the tenants a job with these flags would touch (SLUG PHASE FROM TO
CANARY) and those it would skip, and why. Starts nothing.
TXT
}

help_upgrade_list() {
  cat <<'TXT'
Usage: berth upgrade list [--json]

Lists upgrade jobs, newest first: ID KIND STATE TO DONE FAILED CREATED.
TXT
}

help_upgrade_status() {
  cat <<'TXT'
Usage: berth upgrade status <job> [--json]

Shows a job (state, strategy, counts, why it halted) and each tenant's
progress: SLUG FROM TO STATE STEP ERROR.
TXT
}

help_upgrade_action() {
  printf 'Usage: berth upgrade %s <job> [--json]\n\n' "$1"
  case $1 in
    approve) echo "Lets a job that waits after a healthy canary upgrade the rest." ;;
    pause) echo "Starts no more tenants; those upgrading now finish. Resume it later." ;;
    resume) echo "Lets a paused job go on where it stood." ;;
    cancel) echo "Ends the job: tenants upgrading now finish, the others are skipped." ;;
  esac
}

help_upgrade_rollback() {
  cat <<'TXT'
Usage: berth upgrade rollback <job> [--tenants A,B] [--wait [--timeout S]] [--json]

Starts a job that returns the tenants <job> upgraded (or only --tenants) to
the version each had before, with the same zero-downtime swap. A running job
must be paused or cancelled first. Prints the new job's id.
TXT
}

help_versions() {
  cat <<'TXT'
Usage: berth versions [--json]

Lists the tenant-app versions on the platform's host (image tags), newest
first: VERSION TENANTS DEFAULT CREATED. scripts/build-images --only app
--app-version X makes a new one.
TXT
}

# The job --wait follows, for the hints it prints.
JOB_ID=""

# job_path: the job id (POS) as a URL path.
job_path() {
  printf '/api/v1/upgrades/%s' "$(urlenc "$POS")"
}

# selection_json: the --all / --tenants / --filter flags as the API's
# selection, in SELECTION (not echoed: a usage error must exit the CLI, not a
# subshell).
selection_json() {
  local given=0 pair key value filter='{}'
  [ -z "${OPTS[--all]-}" ] || given=$((given + 1))
  [ -z "${OPTS[--tenants]-}" ] || given=$((given + 1))
  [ -z "${OPTS[--filter]-}" ] || given=$((given + 1))
  [ "$given" -eq 1 ] || usage_error "choose the tenants with exactly one of --all, --tenants A,B or --filter K=V" "$CMD"
  if [ -n "${OPTS[--all]-}" ]; then
    SELECTION='{"all": true}'
  elif [ -n "${OPTS[--tenants]-}" ]; then
    SELECTION=$(tenants_json)
  else
    local -a pairs
    IFS=, read -ra pairs <<<"${OPTS[--filter]}"
    for pair in "${pairs[@]}"; do
      [[ $pair == *=* ]] || usage_error "--filter takes K=V pairs (phase, version, prefix), got \"$pair\"" "$CMD"
      key=${pair%%=*} value=${pair#*=}
      case $key in
        phase | version) ;;
        prefix) key=slugPrefix ;;
        *) usage_error "--filter: unknown key \"$key\" (phase, version, prefix)" "$CMD" ;;
      esac
      filter=$(jq -c --arg k "$key" --arg v "$value" '. + {($k): $v}' <<<"$filter")
    done
    SELECTION=$(jq -nc --argjson f "$filter" '{filter: $f}')
  fi
}

tenants_json() {
  jq -nc --arg list "${OPTS[--tenants]}" '{tenants: ($list | split(",") | map(select(. != "")))}'
}

# job_body: the selection plus --to and the strategy flags, in JOB_BODY.
SELECTION=""
JOB_BODY=""
job_body() {
  local flag
  [ -n "${OPTS[--to]-}" ] || usage_error "missing --to VERSION (see: berth versions)" "$CMD"
  for flag in --canary --concurrency --max-failures --health-timeout; do
    [ -z "${OPTS[$flag]-}" ] || need_int "$flag" "${OPTS[$flag]}"
  done
  selection_json
  JOB_BODY=$(jq -c --arg to "${OPTS[--to]}" --arg canary "${OPTS[--canary]-}" --arg conc "${OPTS[--concurrency]-}" \
    --arg maxf "${OPTS[--max-failures]-}" --arg health "${OPTS[--health-timeout]-}" --arg auto "${OPTS[--auto-approve]-}" '
    . + {toVersion: $to}
    + (if $canary != "" then {canary: ($canary | tonumber)} else {} end)
    + (if $conc != "" then {concurrency: ($conc | tonumber)} else {} end)
    + (if $maxf != "" then {maxFailures: ($maxf | tonumber)} else {} end)
    + (if $health != "" then {healthTimeoutSeconds: ($health | tonumber)} else {} end)
    + (if $auto != "" then {autoApprove: true} else {} end)' <<<"$SELECTION")
}

upgrade_start() {
  parse_args help_upgrade_start "--to --all --tenants --filter --canary --concurrency --max-failures --auto-approve --health-timeout --wait --json" "" "$@"
  job_body
  check_env
  api POST /api/v1/upgrades "$JOB_BODY"
  finish_job "upgrade to ${OPTS[--to]}"
}

upgrade_preview() {
  parse_args help_upgrade_preview "--to --all --tenants --filter --canary --json" "" "$@"
  job_body
  check_env
  api POST /api/v1/upgrades/preview "$JOB_BODY"
  render_table '
    ([["SLUG", "PHASE", "FROM", "TO", "CANARY"]] + [.tenants[] | [.slug, .phase, .from, .to, (if .canary then "yes" else "" end)]] | table),
    (.skipped[] | "skipped: \(.slug) \(.reason)")'
}

upgrade_list() {
  parse_args help_upgrade_list "--json" "" "$@"
  check_env
  api GET /api/v1/upgrades
  render_table '
    [["ID", "KIND", "STATE", "TO", "DONE", "FAILED", "CREATED"]]
    + [.jobs[] | [.id, .kind, .state, (.toVersion // "(each its own)"), "\(.counts.succeeded)/\(.tenants | length)", .counts.failed, .createdAt]]
    | table'
}

upgrade_status() {
  parse_args help_upgrade_status "--json" "<job>" "$@"
  check_env
  api GET "$(job_path)"
  if [ -n "${OPTS[--json]-}" ]; then
    render .
    return
  fi
  render_job
}

render_job() {
  render -r "$JQ_TABLE"'
    ([["job:", .id], ["kind:", "\(.kind)\(if .rollbackOf then " of \(.rollbackOf)" else "" end)"],
      ["state:", "\(.state)\(if .reason then " (\(.reason))" else "" end)"],
      ["to:", (.toVersion // "each tenant its earlier version")],
      ["strategy:", (.strategy | "canary \(.canary), concurrency \(.concurrency), max failures \(.maxFailures)\(if .autoApprove then ", auto-approve" else "" end)")],
      ["tenants:", (.counts | to_entries | map("\(.key) \(.value)") | join(", "))]] | table),
    "",
    ([["SLUG", "FROM", "TO", "STATE", "STEP", "ERROR"]]
      + [.tenants[] | [.slug, .from, .to, "\(.state)\(if .canary then " (canary)" else "" end)", .step, (.error | if . == null then null else "\(.code): \(.message)" end)]]
      | table)'
}

upgrade_action() {
  local action=$1; shift
  # shellcheck disable=SC2317 # called by parse_args, by name
  help_this() { help_upgrade_action "$action"; }
  parse_args help_this "--json" "<job>" "$@"
  check_env
  api POST "$(job_path)/actions/$action"
  if [ -n "${OPTS[--json]-}" ]; then
    render .
    return
  fi
  render -r '"job \(.id): \(.state)"' >&2
}

upgrade_rollback() {
  parse_args help_upgrade_rollback "--tenants --wait --json" "<job>" "$@"
  local body='{}'
  [ -z "${OPTS[--tenants]-}" ] || body=$(tenants_json)
  check_env
  api POST "$(job_path)/rollback" "$body"
  finish_job "rollback of $POS"
}

versions_main() {
  CMD=versions
  parse_args help_versions "--json" "" "$@"
  check_env
  api GET /api/v1/versions
  render_table '
    [["VERSION", "TENANTS", "DEFAULT", "CREATED"]]
    + [.versions[] | [.version, .tenants, (if .default then "yes" else "" end), .createdAt]]
    | table'
}

# finish_job WHAT: the job the API just made (API_BODY): its id (or JSON), or
# with --wait follow it to its end.
finish_job() {
  local job
  job=$(jq -r '.id // empty' <<<"$API_BODY")
  [[ $job =~ ^[A-Za-z0-9_.:-]+$ ]] || bad_response "no job id"
  if [ "$WAIT" -eq 0 ]; then
    if [ -n "${OPTS[--json]-}" ]; then render .; else printf '%s\n' "$job"; fi
    return
  fi
  printf '%s: job %s, %s tenants\n' "$1" "$job" "$(jq -r '.tenants | length' <<<"$API_BODY")" >&2
  JOB_ID=$job
  follow_events "$job" "$1" on_job_event "berth upgrade status $job" job
  POS=$job
  api GET "$(job_path)"
  [ -z "${OPTS[--json]-}" ] || render .
  local state summary
  state=$(jq -r '.state' <<<"$API_BODY")
  summary=$(jq -r '.counts | "\(.succeeded) upgraded, \(.failed) failed, \(.skipped) skipped"' <<<"$API_BODY")
  case $state in
    succeeded) printf 'succeeded: %s\n' "$summary" >&2 ;;
    *) fail "$EXIT_OP_FAILED" "UPGRADE_$(tr 'a-z-' 'A-Z_' <<<"$state")" "job $job $state: $summary$(jq -r 'if .reason then " (\(.reason))" else "" end' <<<"$API_BODY")" ;;
  esac
}

# on_job_event TYPE DATA: prints each tenant's progress and the job's state
# changes on stderr; returns 0 once the job is at an end.
on_job_event() {
  local fields jtype slug state step code message to reason
  fields=$(jq -r '(.data // {}) as $d | [(.type // ""), (.tenant // ""), ($d.state // ""), ($d.step // ""), ($d.code // ""), ($d.message // "" | tostring), ($d.to // ""), ($d.reason // "")]
    | map(tostring | gsub("[[:cntrl:]]"; " ")) | join("\u001f")' <<<"$2" 2>/dev/null) || return 1
  IFS=$'\x1f' read -r jtype slug state step code message to reason <<<"$fields"
  case ${1:-$jtype} in
    upgrade.tenant)
      printf '  %s: %s%s%s\n' "$slug" "$state" "${step:+ ($step)}" "${code:+: $code $message}" >&2 ;;
    upgrade.state)
      printf 'job %s%s\n' "$to" "${reason:+: $reason}" >&2
      case $to in
        succeeded | failed | halted | cancelled) return 0 ;;
        awaiting-approval) printf 'the canary is healthy; approve with: berth upgrade approve %s (or in the console)\n' "$JOB_ID" >&2 ;;
      esac ;;
  esac
  return 1
}

upgrade_main() {
  local sub=${1-}
  case $sub in
    -h | --help) upgrade_usage; return ;;
    --*) CMD=upgrade upgrade_start "$@"; return ;;
  esac
  [ $# -eq 0 ] || shift
  case $sub in
    preview) CMD="upgrade preview" upgrade_preview "$@" ;;
    list) CMD="upgrade list" upgrade_list "$@" ;;
    status) CMD="upgrade status" upgrade_status "$@" ;;
    approve | pause | resume | cancel) CMD="upgrade $sub" upgrade_action "$sub" "$@" ;;
    rollback) CMD="upgrade rollback" upgrade_rollback "$@" ;;
    '') usage_error "missing --to VERSION or a command (preview, list, status, approve, pause, resume, cancel, rollback)" upgrade ;;
    *) usage_error "unknown upgrade command \"$sub\"" upgrade ;;
  esac
}
