# Plots a medrelay-bench sweep: server CPU per forwarded packet and p99
# transit latency against the number of subscribers, one line per
# target/label found in the CSV (medrelay over veth, loopback, Janus, ...).
#   gnuplot -e "csv='bench.csv'; png='bench.png'" tests/bench/plot.gp
# Columns (see report.c): 1 target, 2 label, 4 subscribers,
# 8 cpu_us_per_packet, 15 lat_video_p99_us, 21 valid (runs that lost their
# publisher are left out), 22 client (synthetic, real, ...; absent in CSVs
# from before it: one line per target/label/client), 23 pub_loss_pct (the
# label tells losses apart: bench.sh --pub-loss adds -publoss<PCT>),
# 24 sub_transport (udp or tcp; bench.sh adds -subtcp to the label),
# 25 server_tcp_backlog, 26 layers (the publishers' simulcast layers;
# bench.sh adds -layersN to the label).
if (!exists("csv")) csv = 'bench.csv'
if (!exists("png")) png = 'bench.png'
set datafile separator ','
set terminal pngcairo size 1200,480 font ',10' noenhanced
set output png
set key top left
set grid
set xlabel 'subscribers (1 publisher, 2.5 Mbit/s VP8 30 fps + Opus)'
series = system(sprintf("tail -n +2 '%s' | cut -d, -f1,2,22 | sort -u | tr '\\n' ' '", csv))
sel(s) = sprintf("< awk -F, -v s='%s' 'NR > 1 && $21 == 1 && $1\",\"$2 (NF > 21 ? \",\"$22 : \"\") == s' '%s' | sort -t, -k4 -n", s, csv)
set multiplot layout 1,2 title 'medrelay-bench: '.csv
set title 'server CPU per forwarded packet'
set ylabel 'us of CPU (all threads) / packet'
set yrange [0:*]
plot for [s in series] sel(s) using 4:8 with linespoints title s
set title 'relay transit latency, p99 (latency subscribers)'
set ylabel 'ms (log scale)'
set logscale y
set yrange [*:*]
plot for [s in series] sel(s) using 4:($15/1000.0) with linespoints title s
unset multiplot
