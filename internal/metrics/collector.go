package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// nodeCollector reads the node's figures at each scrape.
type nodeCollector struct {
	cfg Config

	buildInfo     *prometheus.Desc
	meetings      *prometheus.Desc
	participants  *prometheus.Desc
	tracks        *prometheus.Desc
	subscriptions *prometheus.Desc
	packets       *prometheus.Desc
	bytes         *prometheus.Desc
	lost          *prometheus.Desc
	nacks         *prometheus.Desc
	retransmits   *prometheus.Desc

	natsConnected  *prometheus.Desc
	nodes          *prometheus.Desc
	natsRTT        *prometheus.Desc
	natsReconnects *prometheus.Desc
}

func newNodeCollector(cfg Config, version, revision string) *nodeCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("visio_"+name, help, labels, nil)
	}
	return &nodeCollector{
		cfg: cfg,
		buildInfo: prometheus.NewDesc("visio_build_info", "Always 1; the labels say which build of Visio runs.", nil,
			prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()}),
		meetings:      desc("meetings", "Meetings live on this node."),
		participants:  desc("participants", "Participants in the meetings of this node, not counting those waiting in a lobby."),
		tracks:        desc("tracks", "Tracks participants publish to this node now, by kind (a simulcast camera counts once).", "kind"),
		subscriptions: desc("subscriptions", "Tracks this node sends now, one for each track and participant receiving it."),
		packets: desc("rtp_packets_total",
			"RTP packets of media: in, received from publishers; out, forwarded to subscribers (retransmissions apart).", "direction"),
		bytes: desc("rtp_bytes_total",
			"Payload bytes of those RTP packets, without RTP headers, padding, SRTP, UDP or IP.", "direction"),
		lost: desc("rtp_packets_lost_total",
			"RTP packets lost for good: in, sent by publishers but never received (gaps in their sequence numbers, less those filled late); "+
				"out, lost on the way to subscribers, as their receiver reports say.", "direction"),
		nacks: desc("nack_total",
			"RTP packets subscribers asked to be sent again (NACK); the answered ones are in visio_rtp_retransmits_total."),
		retransmits: desc("rtp_retransmits_total", "RTP packets sent again to subscribers, from the cache, in answer to a NACK."),

		natsConnected:  desc("cluster_nats_connected", "1 when this node is connected to NATS, 0 otherwise."),
		nodes:          desc("cluster_nodes", "Healthy nodes of the cluster this node sees, itself included."),
		natsRTT:        desc("cluster_nats_rtt_seconds", "Round trip to the NATS server, last measured; absent while disconnected."),
		natsReconnects: desc("cluster_nats_reconnects_total", "Reconnections to NATS since this node started."),
	}
}

// Describe implements prometheus.Collector.
func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.buildInfo, c.meetings, c.participants, c.tracks, c.subscriptions,
		c.packets, c.bytes, c.lost, c.nacks, c.retransmits} {
		ch <- d
	}
	if c.cfg.Cluster != nil {
		for _, d := range []*prometheus.Desc{c.natsConnected, c.nodes, c.natsRTT, c.natsReconnects} {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.buildInfo, 1)

	meetings, participants := c.cfg.Meetings()
	gauge(c.meetings, float64(meetings))
	gauge(c.participants, float64(participants))

	media := c.cfg.Media()
	gauge(c.tracks, float64(media.AudioTracks), "audio")
	gauge(c.tracks, float64(media.VideoTracks), "video")
	gauge(c.subscriptions, float64(media.DownTracks))
	counter(c.packets, media.PacketsIn, "in")
	counter(c.packets, media.PacketsOut, "out")
	counter(c.bytes, media.BytesIn, "in")
	counter(c.bytes, media.BytesOut, "out")
	counter(c.lost, media.PacketsLostIn, "in")
	counter(c.lost, media.PacketsLostOut, "out")
	counter(c.nacks, media.NACKs)
	counter(c.retransmits, media.Retransmits)

	if c.cfg.Cluster == nil {
		return
	}
	cluster := c.cfg.Cluster()
	connected := 0.0
	if cluster.Connected {
		connected = 1
		gauge(c.natsRTT, cluster.RTT.Seconds())
	}
	gauge(c.natsConnected, connected)
	gauge(c.nodes, float64(cluster.Nodes))
	counter(c.natsReconnects, cluster.Reconnects)
}
