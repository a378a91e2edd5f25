# shellcheck shell=bash
# berth tenant ...: create, list, status, start/stop/restart, delete, logs,
# owner-link.
# Sourced by scripts/berth, never run.

tenant_usage() {
  cat <<'TXT'
Usage: berth tenant <command> [arguments]

  create <slug> [--name NAME] [--plan PLAN] [--wait [--timeout S]]
  list [--phase PHASE] [--json]
  status <slug> [--json]
  start <slug> [--wait [--timeout S]]
  stop <slug> [--wait [--timeout S]]
  restart <slug> [--wait [--timeout S]]
  delete <slug> [--delete-data [--yes]] [--wait [--timeout S]]
  logs <slug> [--service S] [--tail N] [--follow]
  owner-link <slug> [--json] [--wait [--timeout S]]

Run "berth tenant <command> --help" for one command's details; exit codes are
in "berth --help".
TXT
}

wait_help() {
  cat <<'TXT'
  --wait           follow the operation: each step on stderr, then exit 0 when
                   it succeeds, 4 when it fails (with its code and message)
  --timeout S      with --wait: give up after S seconds (default 600), exit 5

Without --wait it prints the operation id on stdout and returns at once.
TXT
}

help_create() {
  cat <<'TXT'
Usage: berth tenant create <slug> [--name NAME] [--plan PLAN] [--wait [--timeout S]]

Creates a tenant: its own app, database and object store, served at
http://<slug>.<base domain>. The slug is 3-32 characters of a-z, 0-9 and "-",
starting with a letter (the API checks it: SLUG_INVALID, exit 1).

  --name NAME      display name (default: the slug)
  --plan PLAN      the template's plan (default: the template's default plan)
TXT
  wait_help
}

help_list() {
  cat <<'TXT'
Usage: berth tenant list [--phase PHASE] [--json]

Lists tenants as a table: SLUG PHASE HEALTH VERSION PLAN URL.

  --phase PHASE    only tenants in PHASE (running, stopped, failed, ...)
  --json           the API's JSON ({"tenants": [...]}) instead of the table
TXT
}

help_status() {
  cat <<'TXT'
Usage: berth tenant status <slug> [--json]

Shows one tenant: phase, health, version, plan, URL, services, the operation
in progress and the last error.

  --json           the API's JSON for the tenant instead
TXT
}

help_action() {
  local action=$1
  printf 'Usage: berth tenant %s <slug> [--wait [--timeout S]]\n\n' "$action"
  case $action in
    start) echo "Starts a stopped (or failed) tenant's containers, waits for health, routes it." ;;
    stop) echo "Stops a tenant's containers (data kept); its host then answers a 503 page." ;;
    restart) echo "Stops then starts a tenant's containers." ;;
  esac
  echo
  wait_help
}

help_delete() {
  cat <<'TXT'
Usage: berth tenant delete <slug> [--delete-data [--yes]] [--wait [--timeout S]]

Deletes a tenant's containers and route; its data volumes are kept unless
--delete-data is given.

  --delete-data    delete the database and object-store data too, for good;
                   asks you to type the slug on a terminal, and without a
                   terminal refuses (exit 2) unless --yes is given
  --yes            do not ask (for CI)
TXT
  wait_help
}

help_logs() {
  cat <<'TXT'
Usage: berth tenant logs <slug> [--service S] [--tail N] [--follow]

Prints a service's recent log lines on stdout.

  --service S      app (default), db or storage
  --tail N         how many recent lines (default 100)
  --follow         keep printing new lines until interrupted (Ctrl-C) or the
                   container stops
TXT
}

help_owner_link() {
  cat <<'TXT'
Usage: berth tenant owner-link <slug> [--json] [--wait [--timeout S]]

Issues a new one-time link for the team's owner to choose a password (for an
owner who lost theirs or let it expire; links last BERTH_OWNER_LINK_TTL_DAYS).
The previous link stops working. The team's app is restarted with the new
link (a stopped team gets it when started); an owner who already chose a
password keeps it, and the link then does nothing.

Prints the link on stdout (hand it to the owner only: it is a password until
used) and when it expires on stderr.

  --json           the API's JSON ({"url", "expiresAt", "operation"}) instead
TXT
  wait_help
}

# The slug as a URL path segment: encoded, so "a/../b" cannot reach another route.
slug_path() {
  printf '/api/v1/tenants/%s' "$(urlenc "$POS")"
}

tenant_create() {
  parse_args help_create "--name --plan --wait" "<slug>" "$@"
  check_env
  local body
  body=$(jq -nc --arg slug "$POS" --arg name "${OPTS[--name]-}" --arg plan "${OPTS[--plan]-}" \
    '{slug: $slug} + (if $name != "" then {displayName: $name} else {} end) + (if $plan != "" then {plan: $plan} else {} end)')
  api POST /api/v1/tenants "$body"
  finish_operation "create $POS"
}

tenant_list() {
  parse_args help_list "--phase --json" "" "$@"
  check_env
  local query=""
  [ -z "${OPTS[--phase]-}" ] || query="?phase=$(urlenc "${OPTS[--phase]}")"
  api GET "/api/v1/tenants$query"
  render_table '
    [["SLUG", "PHASE", "HEALTH", "VERSION", "PLAN", "URL"]]
    + [.tenants[] | [.slug, .phase,
        (if .health == null then null elif .health.healthy then "healthy" else "unhealthy" end),
        .appVersion, .plan, .url]]
    | table'
}

tenant_status() {
  parse_args help_status "--json" "<slug>" "$@"
  check_env
  api GET "$(slug_path)"
  render_table '
    def health: if .health == null then null
      else (if .health.healthy then "healthy" else "unhealthy" end)
        + (if .health.failing then " (\(.health.failing)\(if .health.detail then ": \(.health.detail)" else "" end))" else "" end)
        + (if .health.checkedAt then ", checked \(.health.checkedAt)" else "" end) end;
    [["slug:", .slug], ["name:", .displayName],
     ["phase:", "\(.phase)\(if .desired then " (desired: \(.desired))" else "" end)"],
     ["health:", health], ["version:", .appVersion], ["plan:", .plan], ["url:", .url], ["port:", .port],
     ["services:", (.services // {} | to_entries | map("\(.key)=\(.value)") | join(" "))],
     ["operation:", (.operation | if . == null then null else "\(.kind) \(.id), step \(.step // "-"), since \(.startedAt // "-")" end)],
     ["last error:", (.lastError | if . == null then null else "\(.code): \(.message) (\(.at // "-"))" end)],
     ["created:", .createdAt], ["updated:", .updatedAt]]
    | table'
}

tenant_action() {
  local action=$1; shift
  # shellcheck disable=SC2317 # called by parse_args, by name
  help_this() { help_action "$action"; }
  parse_args help_this "--wait" "<slug>" "$@"
  check_env
  api POST "$(slug_path)/actions/$action"
  finish_operation "$action $POS"
}

tenant_delete() {
  parse_args help_delete "--delete-data --yes --wait" "<slug>" "$@"
  check_env
  local query="" answer
  if [ -n "${OPTS[--delete-data]-}" ]; then
    if [ -z "${OPTS[--yes]-}" ]; then
      if [ ! -t 0 ] || [ ! -t 2 ]; then
        fail "$EXIT_USAGE" CONFIRMATION_REQUIRED "--delete-data deletes $POS's data for good; with no terminal to confirm on, add --yes"
      fi
      printf 'This deletes tenant "%s" and its data (database, files) for good.\nType the slug to confirm: ' "$POS" >&2
      IFS= read -r answer || answer=""
      [ "$answer" = "$POS" ] || fail "$EXIT_USAGE" CONFIRMATION_REQUIRED "you typed \"$answer\", not \"$POS\"; nothing deleted"
    fi
    query="?deleteData=true&confirm=$(urlenc "$POS")"
  fi
  api DELETE "$(slug_path)$query"
  finish_operation "delete $POS"
}

tenant_logs() {
  parse_args help_logs "--service --tail --follow" "<slug>" "$@"
  local service=${OPTS[--service]-app} tail=${OPTS[--tail]-100} rc=0
  need_int --tail "$tail"
  check_env
  local path
  path="$(slug_path)/logs?service=$(urlenc "$service")&tail=$tail"
  if [ -z "${OPTS[--follow]-}" ]; then
    api GET "$path"
    render -r '.lines[]'
    return
  fi
  stream_open "$path&follow=true" || unreachable "$?"
  # cat copies the stream in the background so that a signal (Ctrl-C, kill)
  # reaches our trap at once instead of after the next log line.
  cat <&"$STREAM_FD" &
  COPY_PID=$!
  wait "$COPY_PID" || rc=$?
  COPY_PID=""
  if [ "$rc" -ne 0 ]; then
    # cat failed writing: our stdout went away (berth ... | head). Quietly stop.
    stream_close kill || true
    exit "$rc"
  fi
  # Curl's end: 0 when the log ended (the container stopped), else the stream broke.
  stream_close || rc=$?
  [ "$rc" -eq 0 ] || unreachable "$rc"
}

tenant_owner_link() {
  parse_args help_owner_link "--json --wait" "<slug>" "$@"
  check_env
  api POST "$(slug_path)/owner-link"
  local link op
  link=$API_BODY
  op=$(operation_id)
  if [ "$WAIT" -eq 1 ]; then
    wait_operation "$op" "owner-link $POS"
    API_BODY=$link
  else
    printf 'operation %s restarts the app with the new link\n' "$op" >&2
  fi
  if [ -n "${OPTS[--json]-}" ]; then
    render .
  else
    render -r '.url'
    render -r '"the link works once, until \(.expiresAt); the previous one no longer works"' >&2
  fi
}

tenant_main() {
  local sub=${1-}
  [ $# -eq 0 ] || shift
  case $sub in
    -h | --help) tenant_usage ;;
    create) CMD="tenant create" tenant_create "$@" ;;
    list) CMD="tenant list" tenant_list "$@" ;;
    status) CMD="tenant status" tenant_status "$@" ;;
    start | stop | restart) CMD="tenant $sub" tenant_action "$sub" "$@" ;;
    delete) CMD="tenant delete" tenant_delete "$@" ;;
    logs) CMD="tenant logs" tenant_logs "$@" ;;
    owner-link) CMD="tenant owner-link" tenant_owner_link "$@" ;;
    '') usage_error "missing a tenant command (create, list, status, start, stop, restart, delete, logs, owner-link)" tenant ;;
    *) usage_error "unknown tenant command \"$sub\"" tenant ;;
  esac
}
