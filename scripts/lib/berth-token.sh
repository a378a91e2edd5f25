# shellcheck shell=bash
# berth token ...: create, list and revoke API tokens (needs an admin token).
# Sourced by scripts/berth, never run.

token_usage() {
  cat <<'TXT'
Usage: berth token <command> [arguments]

  create --name NAME --scope read|write|admin [--json]
  list [--json]
  revoke <id>

API tokens for CI and scripts; managing them needs an admin token. Run
"berth token <command> --help" for details; exit codes are in "berth --help".
TXT
}

help_token_create() {
  cat <<'TXT'
Usage: berth token create --name NAME --scope read|write|admin [--json]

Makes an API token and prints it alone on stdout (TOKEN=$(berth token create
...)); its id and scope go to stderr. The token is shown only this once.

  --name NAME      what it is for: 1-64 letters, digits, space, ".", "_", "-"
  --scope SCOPE    read (look), write (also change tenants) or admin (also tokens)
  --json           the API's JSON ({token, id, name, scope, createdAt}) instead
TXT
}

help_token_list() {
  cat <<'TXT'
Usage: berth token list [--json]

Lists API tokens, revoked ones too, as a table: ID NAME SCOPE CREATED
LAST-USED REVOKED. Never their secrets.

  --json           the API's JSON ({"tokens": [...]}) instead
TXT
}

help_token_revoke() {
  cat <<'TXT'
Usage: berth token revoke <id>

Revokes an API token at once (the ID column of "berth token list"). Revoking
twice is harmless.
TXT
}

token_create() {
  parse_args help_token_create "--name --scope --json" "" "$@"
  [ -n "${OPTS[--name]-}" ] || usage_error "missing --name NAME" "$CMD"
  case ${OPTS[--scope]-} in
    read | write | admin) ;;
    '') usage_error "missing --scope read|write|admin" "$CMD" ;;
    *) usage_error "--scope must be read, write or admin, got \"${OPTS[--scope]}\"" "$CMD" ;;
  esac
  check_env
  api POST /api/v1/tokens "$(jq -nc --arg name "${OPTS[--name]}" --arg scope "${OPTS[--scope]}" '{name: $name, scope: $scope}')"
  if [ -n "${OPTS[--json]-}" ]; then
    render .
    return
  fi
  render -r '.token'
  render -r '"token \(.id) (\(.name | tojson), scope \(.scope)) created; this is the only time it is shown"' >&2
}

token_list() {
  parse_args help_token_list "--json" "" "$@"
  check_env
  api GET /api/v1/tokens
  render_table '
    def when: if . == null then null else sub("\\.[0-9]+Z$"; "Z") end;
    [["ID", "NAME", "SCOPE", "CREATED", "LAST-USED", "REVOKED"]]
    + [.tokens[] | [.id, .name, .scope, (.createdAt | when), (.lastUsedAt | when), (.revokedAt | when)]]
    | table'
}

token_revoke() {
  parse_args help_token_revoke "" "<id>" "$@"
  check_env
  api DELETE "/api/v1/tokens/$(urlenc "$POS")"
  printf 'revoked token %s\n' "$POS"
}

token_main() {
  local sub=${1-}
  [ $# -eq 0 ] || shift
  case $sub in
    -h | --help) token_usage ;;
    create) CMD="token create" token_create "$@" ;;
    list) CMD="token list" token_list "$@" ;;
    revoke) CMD="token revoke" token_revoke "$@" ;;
    '') usage_error "missing a token command (create, list, revoke)" token ;;
    *) usage_error "unknown token command \"$sub\"" token ;;
  esac
}
