/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`orchestrator/test/proxy/route-render.test.ts > TAP > an up route proxies to the app on 127.0.0.1 with upgrade headers, limits and the route header > up route 1`] = `
# Berth route for tenant acme (up), generated from
# proxy-config/route.conf by the orchestrator; edits here are overwritten.
#
# nginx quirk: add_header in a location replaces every add_header inherited
# from the server block, so each location repeats the headers it needs.
server {
  listen 8080;
  server_name acme.berth.localhost;

  # Answered by nginx itself: the orchestrator probes it after a reload to see
  # that this very file (X-Berth-Revision) serves, without loading the app.
  location = /__berth/route {
    add_header X-Berth-Route acme always;
    add_header X-Berth-Revision bc098d89982c0086 always;
    add_header Cache-Control no-store always;
    return 204;
  }

  client_max_body_size 100m;

  location / {
    proxy_pass http://127.0.0.1:20001;
    # HTTP/1.1 and these two headers let WebSocket upgrades through; the
    # $connection_upgrade map lives in the main nginx.conf.
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header Host $host;
    # Berth's nginx is the edge: send the peer address, not
    # $proxy_add_x_forwarded_for, which would pass on entries a client forged.
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_connect_timeout 5s;
    proxy_send_timeout 60s;
    # Also the idle limit of a WebSocket: apps ping more often than this.
    proxy_read_timeout 300s;
    add_header X-Berth-Route acme always;
    # nginx's own 502 (nothing listens) and 504 (no answer in time) become the
    # 503 page below. proxy_intercept_errors stays off: the app's own error
    # pages are the app's to show.
    error_page 502 504 =503 @berth_unavailable;
  }

  location @berth_unavailable {
    default_type text/html;
    charset utf-8;
    add_header X-Berth-Route acme always;
    add_header Retry-After 10 always;
    add_header Cache-Control no-store always;
    return 503 "<!doctype html>
<html lang='en'><head><meta charset='utf-8'><title>acme is not answering</title></head>
<body><h1>This team's space is not answering</h1>
<p>Its app at acme.berth.localhost did not answer just now. It may be restarting; please try again in a moment.</p></body></html>
";
  }
}

`

exports[`orchestrator/test/proxy/route-render.test.ts > TAP > every down state answers 503 with its own page and Retry-After, never proxying > down: degraded 1`] = `
# Berth route for tenant acme (down: degraded), generated from
# proxy-config/route.conf by the orchestrator; edits here are overwritten.
#
# nginx quirk: add_header in a location replaces every add_header inherited
# from the server block, so each location repeats the headers it needs.
server {
  listen 8080;
  server_name acme.berth.localhost;

  # Answered by nginx itself: the orchestrator probes it after a reload to see
  # that this very file (X-Berth-Revision) serves, without loading the app.
  location = /__berth/route {
    add_header X-Berth-Route acme always;
    add_header X-Berth-Revision 17e40015afd07832 always;
    add_header Cache-Control no-store always;
    return 204;
  }

  location / {
    default_type text/html;
    charset utf-8;
    add_header X-Berth-Route acme always;
    add_header Retry-After 30 always;
    add_header Cache-Control no-store always;
    return 503 "<!doctype html>
<html lang='en'><head><meta charset='utf-8'><title>acme is degraded</title></head>
<body><h1>This team's space is degraded</h1>
<p>It is not answering its health checks right now; it is being looked after.</p></body></html>
";
  }
}

`

exports[`orchestrator/test/proxy/route-render.test.ts > TAP > every down state answers 503 with its own page and Retry-After, never proxying > down: deleting 1`] = `
# Berth route for tenant acme (down: deleting), generated from
# proxy-config/route.conf by the orchestrator; edits here are overwritten.
#
# nginx quirk: add_header in a location replaces every add_header inherited
# from the server block, so each location repeats the headers it needs.
server {
  listen 8080;
  server_name acme.berth.localhost;

  # Answered by nginx itself: the orchestrator probes it after a reload to see
  # that this very file (X-Berth-Revision) serves, without loading the app.
  location = /__berth/route {
    add_header X-Berth-Route acme always;
    add_header X-Berth-Revision 84f3be019f75a834 always;
    add_header Cache-Control no-store always;
    return 204;
  }

  location / {
    default_type text/html;
    charset utf-8;
    add_header X-Berth-Route acme always;
    add_header Retry-After 300 always;
    add_header Cache-Control no-store always;
    return 503 "<!doctype html>
<html lang='en'><head><meta charset='utf-8'><title>acme is deleting</title></head>
<body><h1>This team's space is deleting</h1>
<p>It is being deleted.</p></body></html>
";
  }
}

`

exports[`orchestrator/test/proxy/route-render.test.ts > TAP > every down state answers 503 with its own page and Retry-After, never proxying > down: failed 1`] = `
# Berth route for tenant acme (down: failed), generated from
# proxy-config/route.conf by the orchestrator; edits here are overwritten.
#
# nginx quirk: add_header in a location replaces every add_header inherited
# from the server block, so each location repeats the headers it needs.
server {
  listen 8080;
  server_name acme.berth.localhost;

  # Answered by nginx itself: the orchestrator probes it after a reload to see
  # that this very file (X-Berth-Revision) serves, without loading the app.
  location = /__berth/route {
    add_header X-Berth-Route acme always;
    add_header X-Berth-Revision e4bc737f43b27e2d always;
    add_header Cache-Control no-store always;
    return 204;
  }

  location / {
    default_type text/html;
    charset utf-8;
    add_header X-Berth-Route acme always;
    add_header Retry-After 300 always;
    add_header Cache-Control no-store always;
    return 503 "<!doctype html>
<html lang='en'><head><meta charset='utf-8'><title>acme is failed</title></head>
<body><h1>This team's space is failed</h1>
<p>It could not be started. An operator needs to look at it.</p></body></html>
";
  }
}

`

exports[`orchestrator/test/proxy/route-render.test.ts > TAP > every down state answers 503 with its own page and Retry-After, never proxying > down: hibernated 1`] = `
# Berth route for tenant acme (down: hibernated), generated from
# proxy-config/route.conf by the orchestrator; edits here are overwritten.
#
# nginx quirk: add_header in a location replaces every add_header inherited
# from the server block, so each location repeats the headers it needs.
server {
  listen 8080;
  server_name acme.berth.localhost;

  # Answered by nginx itself: the orchestrator probes it after a reload to see
  # that this very file (X-Berth-Revision) serves, without loading the app.
  location = /__berth/route {
    add_header X-Berth-Route acme always;
    add_header X-Berth-Revision c3c1b97b317018ee always;
    add_header Cache-Control no-store always;
    return 204;
  }

  location / {
    default_type text/html;
    charset utf-8;
    add_header X-Berth-Route acme always;
    add_header Retry-After 60 always;
    add_header Cache-Control no-store always;
    return 503 "<!doctype html>
<html lang='en'><head><meta charset='utf-8'><title>acme is hibernated</title></head>
<body><h1>This team's space is hibernated</h1>
<p>It is asleep. It will answer again once it is woken up.</p></body></html>
";
  }
}

`

exports[`orchestrator/test/proxy/route-render.test.ts > TAP > every down state answers 503 with its own page and Retry-After, never proxying > down: provisioning 1`] = `
# Berth route for tenant acme (down: provisioning), generated from
# proxy-config/route.conf by the orchestrator; edits here are overwritten.
#
# nginx quirk: add_header in a location replaces every add_header inherited
# from the server block, so each location repeats the headers it needs.
server {
  listen 8080;
  server_name acme.berth.localhost;

  # Answered by nginx itself: the orchestrator probes it after a reload to see
  # that this very file (X-Berth-Revision) serves, without loading the app.
  location = /__berth/route {
    add_header X-Berth-Route acme always;
    add_header X-Berth-Revision cfe1a33a680f15dc always;
    add_header Cache-Control no-store always;
    return 204;
  }

  location / {
    default_type text/html;
    charset utf-8;
    add_header X-Berth-Route acme always;
    add_header Retry-After 10 always;
    add_header Cache-Control no-store always;
    return 503 "<!doctype html>
<html lang='en'><head><meta charset='utf-8'><title>acme is provisioning</title></head>
<body><h1>This team's space is provisioning</h1>
<p>It is being set up and will answer in a moment.</p></body></html>
";
  }
}

`

exports[`orchestrator/test/proxy/route-render.test.ts > TAP > every down state answers 503 with its own page and Retry-After, never proxying > down: stopped 1`] = `
# Berth route for tenant acme (down: stopped), generated from
# proxy-config/route.conf by the orchestrator; edits here are overwritten.
#
# nginx quirk: add_header in a location replaces every add_header inherited
# from the server block, so each location repeats the headers it needs.
server {
  listen 8080;
  server_name acme.berth.localhost;

  # Answered by nginx itself: the orchestrator probes it after a reload to see
  # that this very file (X-Berth-Revision) serves, without loading the app.
  location = /__berth/route {
    add_header X-Berth-Route acme always;
    add_header X-Berth-Revision c4b24f82508a2908 always;
    add_header Cache-Control no-store always;
    return 204;
  }

  location / {
    default_type text/html;
    charset utf-8;
    add_header X-Berth-Route acme always;
    add_header Retry-After 300 always;
    add_header Cache-Control no-store always;
    return 503 "<!doctype html>
<html lang='en'><head><meta charset='utf-8'><title>acme is stopped</title></head>
<body><h1>This team's space is stopped</h1>
<p>It has been stopped. It will answer again once an operator starts it.</p></body></html>
";
  }
}

`

exports[`orchestrator/test/proxy/route-render.test.ts > TAP > every down state answers 503 with its own page and Retry-After, never proxying > down: upgrading 1`] = `
# Berth route for tenant acme (down: upgrading), generated from
# proxy-config/route.conf by the orchestrator; edits here are overwritten.
#
# nginx quirk: add_header in a location replaces every add_header inherited
# from the server block, so each location repeats the headers it needs.
server {
  listen 8080;
  server_name acme.berth.localhost;

  # Answered by nginx itself: the orchestrator probes it after a reload to see
  # that this very file (X-Berth-Revision) serves, without loading the app.
  location = /__berth/route {
    add_header X-Berth-Route acme always;
    add_header X-Berth-Revision cd0393074de19af7 always;
    add_header Cache-Control no-store always;
    return 204;
  }

  location / {
    default_type text/html;
    charset utf-8;
    add_header X-Berth-Route acme always;
    add_header Retry-After 10 always;
    add_header Cache-Control no-store always;
    return 503 "<!doctype html>
<html lang='en'><head><meta charset='utf-8'><title>acme is upgrading</title></head>
<body><h1>This team's space is upgrading</h1>
<p>It is being upgraded and will be back shortly.</p></body></html>
";
  }
}

`
