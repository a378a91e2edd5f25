#!/usr/bin/env bash
# Checks and installs what both the platform and the tests stand on. Sourced.

# Node 20.19+ (SvelteKit's Vite 7 needs it) and, in build mode, Go 1.24+.
check_toolchains() {
  need_cmd node "install Node.js 20.19 or newer"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node $(node --version) is too old: Berth needs Node 20.19 or newer"
  need_cmd npm "install npm (it comes with Node.js)"
  if [ "${BERTH_IMAGE_SOURCE:-build}" = build ]; then
    need_cmd go "Go 1.24+ builds FerretDB and MinIO from their modules (or set BERTH_IMAGE_SOURCE=pull)"
  fi
}

# npm ci when node_modules is missing or was installed from another lockfile.
ensure_node_modules() {
  local stamp="$BERTH_ROOT/node_modules/.berth-lock" want
  want=$(sha256sum "$BERTH_ROOT/package-lock.json" | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing npm dependencies (npm ci)"
    (cd "$BERTH_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    printf '%s\n' "$want" > "$stamp"
  fi
}

# Debian's nginx and its Lua module: Berth's routes live in a Lua shared-memory
# table (proxy-config/berth_routes.lua), so nginx without the module cannot
# serve a team. libnginx-mod-http-lua pulls the NDK module and lua-resty-core.
ensure_nginx() {
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_install nginx-light
  [ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || apt_install libnginx-mod-http-lua
  # ss (iproute2): an upgrade counts nginx's open connections to the old app
  # through the kernel's socket filter (proxy/upstream-connections.ts).
  command -v ss >/dev/null 2>&1 || apt_install iproute2
}
