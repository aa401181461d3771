#!/usr/bin/env bash
# apt-get update that waits its turn: the tools install what they miss
# while tests run in parallel, and apt-get update fails at once when
# another apt holds /var/lib/apt/lists/lock (DPkg::Lock::Timeout waits
# only for the dpkg lock). Tries for up to five minutes.
for _ in $(seq 60); do
    apt-get -o DPkg::Lock::Timeout=300 update -qq && exit 0
    sleep 5
done
exit 1
