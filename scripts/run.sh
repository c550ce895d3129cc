#!/bin/sh
# `make run`: start medrelay with configs/medrelay.conf and print demo tokens.
# On the first run `medrelay token` creates the token secret file (mode 0600).
set -eu
cd "$(dirname "$0")/.."
BIN=build/medrelay
CONF=${MEDRELAY_CONFIG:-configs/medrelay.conf}
LISTEN=$(awk -F= '/^[[:space:]]*listen[[:space:]]*=/ { gsub(/[[:space:]]/, "", $2); print $2; exit }' "$CONF")
ROOM=demo

token() { "$BIN" token --config "$CONF" --room "$1" --role "$2" --name "$3" --ttl 86400; }

CLINIC=$(token "$ROOM" clinic clinic-1)
EXPERT=$(token "$ROOM" expert expert-1)
OPERATOR=$(token '*' operator operator-1)
VIEWER=$(token "$ROOM" viewer viewer-1)

cat <<TXT

medrelay demo — room "$ROOM", tokens valid for 24 hours
  Clinic console:    http://$LISTEN/clinic.html#token=$CLINIC
  Expert console:    http://$LISTEN/expert.html#token=$EXPERT
  Operator console:  http://$LISTEN/operator.html#room=$ROOM&token=$OPERATOR
  Viewer (WHEP demo): http://$LISTEN/#token=$VIEWER

WHIP:  curl -X POST -H "Authorization: Bearer \$TOKEN" -H "Content-Type: application/sdp" \\
         --data-binary @offer.sdp http://$LISTEN/whip/$ROOM/cam
WHEP:  the same with /whep/$ROOM/cam
More tokens: $BIN token --config $CONF --room ROOM --role ROLE --name WHO

TXT
exec "$BIN" --config "$CONF"
