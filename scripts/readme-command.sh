#!/usr/bin/env bash
# Prints the command of the README's fenced block tagged NAME (```sh NAME ... ```), comments
# and blank lines left out, so CI runs the README's own words: .ci/run runs `test`.
set -euo pipefail
name=${1:?usage: readme-command.sh NAME [README]}
readme=${2:-"$(dirname "$(readlink -f "$0")")/../README.md"}
cmd=$(awk -v tag="$name" '
  $0 == "```sh " tag { inside = 1; found = 1; next }
  inside && /^```/ { inside = 0; next }
  inside && !/^[[:space:]]*(#|$)/ { print }
  END { if (!found) exit 3 }
' "$readme") || { echo "readme-command: no \`\`\`sh $name block in $readme" >&2; exit 66; }
[ -n "$cmd" ] || { echo "readme-command: the \`\`\`sh $name block of $readme is empty" >&2; exit 65; }
printf '%s\n' "$cmd"
