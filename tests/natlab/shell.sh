#!/bin/bash
# Opens a shell in a namespace of a running NAT lab: tests/natlab/shell.sh rtr [PID]
# Hosts: lan (phones), srv (b2bua in the LAN), rtr (the NAT router), wan (provider, far end).
# PID: the natlab.sh run to join, when several run at once.
set -eu
host=${1:?usage: shell.sh lan|srv|rtr|wan [PID]}
pid=${2:-}
mapfile -t found < <(ip netns list | awk '{print $1}' | grep -E "^b2bnat-${pid:-[0-9]+}-${host}\$" || true)
case ${#found[@]} in
  0) echo "no running lab has a '$host' namespace (ip netns list)" >&2; exit 1 ;;
  1) ;;
  *) echo "several labs run: ${found[*]}; name the PID: shell.sh $host PID" >&2; exit 1 ;;
esac
echo "entering ${found[0]} (exit to leave)"
exec ip netns exec "${found[0]}" env PS1="[natlab ${host}] \\w# " bash --norc -i
