#!/bin/sh
# Builds dist/ of a git ref into a temp dir, for the A/B scripts in this folder:
#   sh bench/realistic/build-variant.sh main /tmp/weft-main   ->  then pass main=/tmp/weft-main to a script.
set -e
ref="$1"; out="$2"
[ -n "$ref" ] && [ -n "$out" ] || { echo "usage: build-variant.sh <git-ref> <out-dir>" >&2; exit 2; }
root="$(git rev-parse --show-toplevel)"
rm -rf "$out" && mkdir -p "$out"
git -C "$root" archive "$ref" | tar -x -C "$out"
ln -s "$root/node_modules" "$out/node_modules"
(cd "$out" && npx tsup >/dev/null)
echo "built $ref into $out/dist"
