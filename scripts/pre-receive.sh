#!/bin/sh
# secretstore pre-receive hook: rejects a push that brings store changes secretstore does not authenticate.
#
# Install it in the bare repository the team pushes to (needs `secretstore` on the server's PATH):
#
#   cp scripts/pre-receive.sh /srv/git/team-secrets.git/hooks/pre-receive
#   chmod +x /srv/git/team-secrets.git/hooks/pre-receive
#   # optional, for branches with no history in common with HEAD (the root the team pinned):
#   git -C /srv/git/team-secrets.git config secretstore.root COMMIT
#   git -C /srv/git/team-secrets.git config secretstore.key secretstoresig1...
#
# For each branch a push updates, it runs `secretstore verify --range OLD..NEW`: every commit the push
# brings must be authorised by the writers of the state before it (commits that touch nothing of the store
# need no signature). A new branch is checked from where it leaves the default branch. A branch moved to a
# commit that does not descend from the one it held (a force-push) is rejected: it would rewind history
# that clones have read. Deleting a branch is rejected too. Tags and other refs are left alone.
# The same command is the CI check of a pull request: secretstore verify --range "$BASE..$HEAD".
set -u

status=0
root=$(git config --get secretstore.root || true)
key=$(git config --get secretstore.key || true)

reject() {
  echo "pre-receive: $1" >&2
  status=1
}

while read -r old new ref; do
  case $ref in
    refs/heads/*) ;;
    *) continue ;;
  esac
  case $new in
    *[!0]*) ;;
    *) reject "$ref: deleting a branch is not allowed here"; continue ;;
  esac
  case $old in
    *[!0]*)
      if ! git merge-base --is-ancestor "$old" "$new"; then
        reject "$ref: $new does not descend from $old (a force-push would rewind history the team has read)"
        continue
      fi
      base=$old ;;
    *)
      base=$(git merge-base HEAD "$new" 2>/dev/null || true)
      [ -n "$base" ] || base=$root
      if [ -z "$base" ]; then
        reject "$ref: $new shares no history with HEAD and no secretstore.root is configured"
        continue
      fi ;;
  esac
  if [ -n "$root" ] && [ -n "$key" ]; then
    set -- --root "$root" --key "$key"
  else
    set --
  fi
  # Findings go to the pusher: git shows a hook's stderr as "remote: ..." lines.
  if ! secretstore verify --range "$base..$new" "$@" >&2; then
    reject "$ref: secretstore verify --range $base..$new found commits it does not authenticate"
  fi
done

exit $status
