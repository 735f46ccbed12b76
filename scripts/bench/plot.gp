# gnuplot -e "dir='build/bench'" scripts/bench/plot.gp : the charts of docs/performance.md
set terminal pngcairo size 900,480 font "sans,10" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key below horizontal
set xtics rotate by -20
set yrange [0:*]

if (exists("has_dataplane") && has_dataplane == 1) {
set output dir."/dataplane.png"
set title "Dataplane, one worker core, 64-byte frames: dpdk-lb vs testpmd io ceiling"
set ylabel "Mpps"
plot dir."/dataplane.dat" using 3:xtic(1) title "ceiling (testpmd io)" lc rgb "#bbbbbb", \
     '' using 2 title "dpdk-lb" lc rgb "#3366cc", \
     '' using 0:($2+0.5):(sprintf("%.0f%%", $4*100)) with labels notitle
}

if (!exists("has_e2e") || has_e2e == 0) exit

set output dir."/e2e_rps.png"
set title "End to end, wrk -t1 -c32 (median of runs): requests per second"
set ylabel "requests/s"
plot dir."/e2e.dat" using 2:xtic(1) title "keep-alive" lc rgb "#3366cc", \
     '' using 3 title "Connection: close" lc rgb "#dc3912"

set output dir."/e2e_p99.png"
set title "End to end, wrk -t1 -c32: p99 latency"
set ylabel "ms"
plot dir."/e2e.dat" using 4:xtic(1) title "keep-alive" lc rgb "#3366cc", \
     '' using 5 title "Connection: close" lc rgb "#dc3912"
