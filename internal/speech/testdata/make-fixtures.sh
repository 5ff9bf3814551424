#!/bin/sh
# Regenerates the Opus fixtures of the speech package's tests, so that the
# tests themselves need no speech synthesiser. Needs espeak-ng, sox and opusenc
# (Debian: apt-get install espeak-ng sox opus-tools). Run from anywhere:
#
#   sh internal/speech/testdata/make-fixtures.sh
#
# Outputs, next to this script:
#   speech.opus   two English sentences with pauses around them, SILK 24 kb/s,
#                 20 ms packets: what a browser microphone track looks like
#   speech.txt    where each sentence starts and ends in speech.opus, in
#                 seconds ("start end" per line), measured on the audio given
#                 to the encoder
#   frames-10.opus, frames-40.opus, frames-60.opus
#                 two short words with 10, 40 and 60 ms packets
#   celt.opus     the same words in CELT-only packets (music mode, 24 kb/s)
#   words.txt     where the words start and end in those, like speech.txt
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# say VOICE TEXT OUT: one sentence at 16 kHz mono, with espeak's own silence
# before and after it cut off so that the layout below is exact.
say() {
	espeak-ng -v "$1" -s 155 -w "$tmp/raw.wav" "$2"
	sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$3" \
		silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse
}

# pause SECONDS OUT: digital silence.
pause() {
	sox -n -r 16000 -c 1 -b 16 "$2" trim 0 "$1"
}

encode() { # IN OUT OPUSENC-OPTIONS...
	in=$1 out=$2
	shift 2
	opusenc --quiet --discard-comments --padding 0 "$@" "$in" "$out"
}

say en-us+m3 "Good morning everyone." "$tmp/s1.wav"
say en-us+m3 "Can you hear me clearly?" "$tmp/s2.wav"
pause 0.5 "$tmp/lead.wav"
pause 1.2 "$tmp/gap.wav"
pause 0.8 "$tmp/tail.wav"
sox "$tmp/lead.wav" "$tmp/s1.wav" "$tmp/gap.wav" "$tmp/s2.wav" "$tmp/tail.wav" "$tmp/speech.wav"

lead=$(soxi -D "$tmp/lead.wav")
d1=$(soxi -D "$tmp/s1.wav")
gap=$(soxi -D "$tmp/gap.wav")
d2=$(soxi -D "$tmp/s2.wav")
awk -v lead="$lead" -v d1="$d1" -v gap="$gap" -v d2="$d2" 'BEGIN {
	printf "%.3f %.3f\n", lead, lead + d1
	printf "%.3f %.3f\n", lead + d1 + gap, lead + d1 + gap + d2
}' >"$here/speech.txt"
encode "$tmp/speech.wav" "$here/speech.opus" --speech --bitrate 24 --framesize 20

say en-us+f3 "Hello there." "$tmp/word.wav"
pause 0.2 "$tmp/short.wav"
sox "$tmp/short.wav" "$tmp/word.wav" "$tmp/short.wav" "$tmp/wordpad.wav"
awk -v lead="$(soxi -D "$tmp/short.wav")" -v d="$(soxi -D "$tmp/word.wav")" \
	'BEGIN { printf "%.3f %.3f\n", lead, lead + d }' >"$here/words.txt"
for size in 10 40 60; do
	encode "$tmp/wordpad.wav" "$here/frames-$size.opus" --speech --bitrate 24 --framesize "$size"
done
encode "$tmp/wordpad.wav" "$here/celt.opus" --music --bitrate 24 --framesize 20
