#!/usr/bin/env bash
# Regenerates the built-in English voice prompts (media/prompts/*.wav) with espeak-ng and sox.
#
# The build never runs this: the WAV files are committed, so building needs neither tool. Run it
# by hand after changing a text below, then commit the changed files:
#
#   media/prompts/generate.sh            (needs: apt-get install espeak-ng sox)
#
# Each prompt is spoken at 22.05 kHz, stripped of leading and trailing silence, given 100 ms of
# silence at the end (so prompts played back to back, "three" "zero" "five", do not run
# together), normalized to -3 dBFS peak and stored as 8 kHz mono mu-law (format 7): half the size
# of 16-bit PCM on a router's flash, and what a phone call carries anyway.
# The file name (without .wav) is the key the daemon asks for (media/prompts.h).
set -euo pipefail

cd "$(dirname "$0")"
voice="${VOICE:-en-us}"
speed="${SPEED:-150}"

declare -A text=(
  [greeting]="Hello. Nobody is available to take your call. Please leave a message after the tone."
  [mailbox_full]="Sorry, this mailbox is full. Please call again later."
  [announcement]="Hello. Nobody is available to take your call. Please call again later."
  [blocked]="Your call cannot be completed."
  [no_route]="Your call cannot be completed at this time."
  [you_have]="You have"
  [new_messages]="new messages"
  [new_message]="new message"
  [no_new_messages]="You have no new messages."
  [old_messages]="saved messages"
  [old_message]="saved message"
  [and]="and"
  [message]="message"
  [from]="from"
  [unknown_caller]="an unknown caller"
  [menu]="To play your messages, press 1. To end the call, press the hash key."
  [message_menu]="Press 5 to repeat, 6 for the next message, 4 for the previous message, or 7 to delete."
  [deleted]="Message deleted."
  [end_of_messages]="No more messages."
  [goodbye]="Goodbye."
  [enter_pin]="Please enter your PIN, then press the hash key."
  [wrong_pin]="Wrong PIN."
  [digit_0]="zero" [digit_1]="one" [digit_2]="two" [digit_3]="three" [digit_4]="four"
  [digit_5]="five" [digit_6]="six" [digit_7]="seven" [digit_8]="eight" [digit_9]="nine"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for key in $(printf '%s\n' "${!text[@]}" | sort); do
  espeak-ng -v "$voice" -s "$speed" -w "$tmp/$key.wav" "${text[$key]}"
  # silence ... reverse silence ... reverse: trims both ends; norm before the rate change keeps
  # the -3 dB headroom through the resampler's filter.
  sox "$tmp/$key.wav" -r 8000 -c 1 -e mu-law -b 8 "$key.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3 pad 0 0.1
  echo "$key.wav: $(soxi -D "$key.wav") s"
done
