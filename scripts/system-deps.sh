#!/usr/bin/env bash
# Install the system libraries FocusWeb needs, when they are missing and we may (root + apt-get).
#   scripts/system-deps.sh run    WeasyPrint's Pango/HarfBuzz and fonts (for the recap PDF: Latin, CJK, emoji)
#   scripts/system-deps.sh test   the above, plus Debian's chromium and npm (axe-core) for the browser tests
#   scripts/system-deps.sh bench  the run set, plus wrk (the C load generator of make bench)
set -u
need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libpango-1.0.so.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
have_lib libharfbuzz-subset.so.0 || need+=(libharfbuzz0b libharfbuzz-subset0)
have_lib libfontconfig.so.1 || need+=(libfontconfig1)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# Without them Chinese, Japanese, Korean and emoji in notes print as empty boxes in the recap.
have_font() { fc-list 2>/dev/null | grep -q "$1"; }
have_font "Noto Sans CJK" || need+=(fonts-noto-cjk)
have_font "Noto Color Emoji" || need+=(fonts-noto-color-emoji)
if [ "${1:-run}" = bench ]; then
  command -v wrk >/dev/null || need+=(wrk)
fi
if [ "${1:-run}" = test ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v npm >/dev/null || need+=(npm)  # installs axe-core for the accessibility tests
fi
((${#need[@]})) || exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing system packages: ${need[*]} (install them with your package manager;" \
       "without chromium the browser tests are skipped, without Pango the recap PDF cannot be made)" >&2
fi
exit 0
