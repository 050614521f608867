#!/bin/sh
# Joins the "echo" data channel (PROTOCOL.md §5a) to tee: each message goes back to the
# client, and a copy to this terminal. The socket exists while a client has the channel
# open, so wait for it, and come back for the next client.
socket="$STREAMSTACK_DATA_CHANNELS/echo"
echo "streamstack echo: open a data channel named \"echo\"; what you send comes back."
while :; do
  if [ -S "$socket" ] && socat UNIX-CONNECT:"$socket" SYSTEM:'tee /dev/stderr' 2>&1; then
    echo
    echo "-- the channel closed; waiting for the next one"
  fi
  sleep 0.2
done
