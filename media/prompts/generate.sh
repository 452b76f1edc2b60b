#!/usr/bin/env bash
# Regenerates the built-in English voice prompts (media/prompts/*.wav) with espeak-ng and sox.
#
# The build never runs this: the WAV files are committed, so building needs neither tool. Run it
# by hand after changing a text below, then commit the changed files:
#
#   media/prompts/generate.sh            (needs: apt-get install espeak-ng sox)
#   media/prompts/generate.sh at today   (only those prompts)
#
# sox dithers, so a remade file differs from the committed one in a few samples even when its
# text did not change: name the prompts whose text changed, or the new ones, to leave the rest.
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
  # When a message was left: "received December sixth at two thirty p.m." (b2bua/voicemail/spoken_time.h).
  # Numbers up to 59 reuse digit_1..digit_9 and compose the tens ("forty" "five"); days 21 to 29
  # and 31 are a ten and an ordinal ("twenty" "first"), so 21 day words cover 31 days.
  [received]="received" [today]="today" [yesterday]="yesterday" [at]="at" [oh]="oh"
  [am]="a.m." [pm]="p.m."
  [month_1]="January" [month_2]="February" [month_3]="March" [month_4]="April" [month_5]="May"
  [month_6]="June" [month_7]="July" [month_8]="August" [month_9]="September"
  [month_10]="October" [month_11]="November" [month_12]="December"
  [number_10]="ten" [number_11]="eleven" [number_12]="twelve" [number_13]="thirteen"
  [number_14]="fourteen" [number_15]="fifteen" [number_16]="sixteen" [number_17]="seventeen"
  [number_18]="eighteen" [number_19]="nineteen" [number_20]="twenty" [number_30]="thirty"
  [number_40]="forty" [number_50]="fifty"
  [day_1]="first" [day_2]="second" [day_3]="third" [day_4]="fourth" [day_5]="fifth"
  [day_6]="sixth" [day_7]="seventh" [day_8]="eighth" [day_9]="ninth" [day_10]="tenth"
  [day_11]="eleventh" [day_12]="twelfth" [day_13]="thirteenth" [day_14]="fourteenth"
  [day_15]="fifteenth" [day_16]="sixteenth" [day_17]="seventeenth" [day_18]="eighteenth"
  [day_19]="nineteenth" [day_20]="twentieth" [day_30]="thirtieth"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
keys=("$@")
[[ ${#keys[@]} -gt 0 ]] || mapfile -t keys < <(printf '%s\n' "${!text[@]}" | sort)
for key in "${keys[@]}"; do
  [[ -v "text[$key]" ]] || { echo "no such prompt: $key" >&2; exit 1; }
  espeak-ng -v "$voice" -s "$speed" -w "$tmp/$key.wav" "${text[$key]}"
  # silence ... reverse silence ... reverse: trims both ends; norm before the rate change keeps
  # the -3 dB headroom through the resampler's filter.
  sox "$tmp/$key.wav" -r 8000 -c 1 -e mu-law -b 8 "$key.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3 pad 0 0.1
  echo "$key.wav: $(soxi -D "$key.wav") s"
done
