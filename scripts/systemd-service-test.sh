#!/usr/bin/env bash
# The systemd unit under a real systemd, installed as README's "Running as
# a service" says.
#
# Boots systemd in a container of its own (systemd-nspawn: the host's /usr
# under a writable overlay, a copy of /etc, its own network with loopback
# only), runs README's install block in it (the build step replaced by the
# binary under test), adds a feed served on the container's loopback, and
# checks: the service reaches active (READY=1) with a status line; the
# static copy is written and nothing is logged as an error; `systemctl
# reload` of an invalid config fails and the daemon keeps running; the
# database is 0600; the daemon stays within its thread budget; a stop
# leaves no -wal; a config error at start is not retried; and the drop-in
# docs/operating.md gives for a web server makes the static copy readable
# by its group while the database stays private.
#
# Needs root, systemd-nspawn (package systemd-container) and a kernel that
# lets systemd boot in a namespace. When it cannot run it says SKIPPED
# loudly and exits 0, unless TRIBUTARY_REQUIRE_SYSTEMD=1.
#
# Usage: scripts/systemd-service-test.sh [BINARY]   (default target/debug/tributary)
set -uo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD
bin=$(realpath "${1:-target/debug/tributary}")

skip() {
  echo "SKIPPED: the systemd service test cannot run here: $*" >&2
  echo "SKIPPED: only 'systemd-analyze verify' checks the unit" >&2
  [ "${TRIBUTARY_REQUIRE_SYSTEMD:-0}" = 1 ] && exit 1
  exit 0
}
[ "$(id -u)" = 0 ] || skip "not root"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (apt-get install systemd-container)"
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }

work=$(mktemp -d /tmp/tributary-systemd.XXXXXX)
root=$work/root
nspawn_pid=
cleanup() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The container's root: the host's programs, its own /etc and /var.
mkdir -p "$root"/{usr,var/lib,var/log,var/tmp,var/cache,run,tmp,root,srv,home,opt,build,src} \
  "$work/usr-upper" "$work/usr-work"
for d in bin sbin lib lib64; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"
  elif [ -d "/$d" ]; then cp -a "/$d" "$root/$d"; fi
done
cp -a /etc "$root/etc"
: > "$root/etc/machine-id"
rm -f "$root/etc/systemd/system/multi-user.target.wants/"*.service

unshare -m --propagation private sh -c '
  mount -t overlay overlay -o "lowerdir=/usr,upperdir=$1/usr-upper,workdir=$1/usr-work" "$2/usr" &&
  exec systemd-nspawn -q -D "$2" --register=no --keep-unit --private-network --boot \
    --console=pipe --bind-ro="$3:/src" --bind-ro="$4:/build"
' sh "$work" "$root" "$checkout" "$(dirname "$bin")" >"$work/console.log" 2>&1 &
nspawn_pid=$!

leader=
for _ in $(seq 100); do
  leader=$(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null | awk '{print $1}' | head -1)
  [ -n "$leader" ] && [ "$(cat /proc/"$leader"/comm 2>/dev/null)" = systemd ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || break
  leader=
  sleep 0.2
done
[ -n "$leader" ] || skip "systemd did not boot in a container: $(tail -5 "$work/console.log")"
box() { nsenter -t "$leader" -a "$@"; }
state=
for _ in $(seq 300); do
  state=$(box systemctl is-system-running 2>&1)
  case "$state" in running|degraded|maintenance|stopping) break ;; esac
  sleep 0.2
done
case "$state" in
  running|degraded) ;;
  *) skip "the container's systemd did not come up (state: $state)" ;;
esac
echo "systemd booted in a container ($state)"

failures=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; failures=$((failures + 1)); fi
}
show() { box systemctl show -P "$1" tributary; }
wait_until() { # wait_until SECONDS COMMAND...
  local limit=$1; shift
  for _ in $(seq $((limit * 5))); do "$@" && return 0; sleep 0.2; done
  "$@"
}
cfg=/etc/tributary/tributary.toml
db=/var/lib/tributary/tributary.db

# A feed on the container's loopback.
box systemd-run -q --unit=feeds python3 -m http.server --bind 127.0.0.1 8000 --directory /src/config/samples
wait_until 10 box bash -c 'exec 3<>/dev/tcp/127.0.0.1/8000' 2>/dev/null || echo "the feed server did not start" >&2
feed_url=http://127.0.0.1:8000/world-news.rss

# README's install block, as root from the checkout; the build step is
# replaced by the binary under test, the example URL by the local feed.
steps=$(awk '/^Install \(as root, from a checkout\):/ {on=1; next}
             on && /^```sh/ {inblock=1; next}
             inblock && /^```/ {exit}
             inblock' README.md)
[ -n "$steps" ] || { echo "FAILED: README has no install block" >&2; exit 1; }
steps=$(printf '%s\n' "$steps" | grep -v '^cargo build' \
  | sed -e "s#target/release/tributary#/build/$(basename "$bin")#g" -e "s#https://example.org/feed.xml#$feed_url#g")
echo "--- README's install steps, as run:"
printf '%s\n' "$steps"
echo "---"
check "README's install steps run" box sh -ec "cd /src; $steps"
if ! box grep -q "$feed_url" "$cfg"; then
  box tributary --config "$cfg" add "$feed_url" --name world && box systemctl reload tributary
fi

check "the service is active (READY=1 received)" wait_until 30 test "$(show ActiveState)" = active
status=$(show StatusText)
echo "  status: $status"
check "the status line is set" test -n "$status"
check "the static copy is written" wait_until 30 box grep -qs 'Harbour bridge' /var/lib/tributary/public/feed.atom
# (The daemon's lines all reach the journal at one priority: its level is
# in the text.)
errors=$(box journalctl -u tributary -q --no-pager | grep -E ' (ERROR|WARN) ')
check "nothing logged as a warning or error" test -z "$errors"
[ -z "$errors" ] || printf '%s\n' "$errors" | head -5 >&2
pid=$(show MainPID)
threads=$(box awk '/^Threads:/ {print $2}' "/proc/$pid/status")
echo "  threads: $threads (tasks of the unit: $(show TasksCurrent), TasksMax $(show TasksMax))"
echo "  $(box systemd-analyze security tributary.service --no-pager 2>/dev/null | tail -1)"
check "threads within the budget of 38" test "${threads:-99}" -le 38
mode_of() { box stat -L -c %a "$1"; }
check "the database is 0600 ($(mode_of $db))" test "$(mode_of $db)" = 600
check "its WAL is 0600 ($(mode_of $db-wal))" test "$(mode_of $db-wal)" = 600

# A bad line: the reload fails, the daemon keeps running.
box cp "$cfg" "$cfg.good"
box sh -c "echo 'this is not toml' >> $cfg"
box systemctl reload tributary 2>/dev/null
reload_rc=$?
echo "  reload of an invalid config: exit status $reload_rc"
check "a reload of an invalid config fails" test "$reload_rc" -ne 0
check "the daemon keeps running" test "$(show MainPID)" = "$pid" -a "$(show ActiveState)" = active
box cp "$cfg.good" "$cfg"
check "a reload of a valid config succeeds" box systemctl reload tributary

# A clean stop leaves no WAL.
check "stop succeeds" box systemctl stop tributary
check "stop leaves no -wal or -shm" box sh -c "! test -e $db-wal && ! test -e $db-shm"
check "the store was closed" sh -c "nsenter -t $leader -a journalctl -u tributary -q --no-pager | grep -q 'store closed'"

# A bad line at start: failed, not restarted every 5 s.
box sh -c "echo 'this is not toml' >> $cfg"
box systemctl start tributary 2>/dev/null
sleep 12
restarts=$(show NRestarts)
echo "  a config error at start: state $(show ActiveState), $restarts restarts in 12 s"
check "a config error at start is not retried" test "$restarts" = 0 -a "$(show ActiveState)" = failed
box cp "$cfg.good" "$cfg"
box systemctl reset-failed tributary

# The static copy for a web server (docs/operating.md).
box install -d -o root -g www-data -m 2770 /srv/tributary
box mkdir -p /etc/systemd/system/tributary.service.d
box sh -c 'printf "[Service]\nGroup=www-data\nUMask=0027\nReadWritePaths=/srv/tributary\n" > /etc/systemd/system/tributary.service.d/web.conf'
box sed -i 's#^out_dir = .*#out_dir = "/srv/tributary"#' "$cfg"
box systemctl daemon-reload
check "the service starts with the web drop-in" box systemctl start tributary
check "the static copy is written to /srv/tributary" wait_until 30 box test -s /srv/tributary/feed.atom
check "the web server's group reads it" box setpriv --reuid=www-data --regid=www-data --clear-groups grep -q 'Harbour bridge' /srv/tributary/feed.atom
check "the database stays 0600 ($(mode_of $db))" test "$(mode_of $db)" = 600
check "the web server's group cannot read the database" box setpriv --reuid=www-data --regid=www-data --clear-groups sh -c "! cat /var/lib/private/tributary/tributary.db >/dev/null 2>&1"
box systemctl stop tributary

if [ "$failures" -gt 0 ]; then
  echo "systemd service test: $failures check(s) FAILED" >&2
  box journalctl -u tributary -q --no-pager | tail -30 >&2
  exit 1
fi
echo "systemd service test: all checks passed"
