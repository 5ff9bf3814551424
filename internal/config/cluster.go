package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ClusterSettings say how a node takes part in a cluster.
type ClusterSettings struct {
	Node         string
	URL          string
	NATSURL      string
	Name         string
	RouteAddr    string
	Routes       []string
	Secret       string
	Replicas     int
	DataDir      string
	DrainTimeout time.Duration
}

// MultiNode reports whether the node shares its rooms with other nodes.
func (c *Config) MultiNode() bool {
	return c.Cluster.RouteAddr != "" || c.Cluster.NATSURL != ""
}

func clusterSettings() []setting {
	return []setting{
		stringSetting("cluster.node", "Name of this node, unique in the cluster (default: the host name).",
			func(c *Config) *string { return &c.Cluster.Node }, nil),
		stringSetting("cluster.url", "Address where browsers reach this node itself (https://node1.visio.example.org): the apps open their signalling connection there when it hosts their meeting. Needed with several nodes; empty: the address the app was loaded from.",
			func(c *Config) *string { return &c.Cluster.URL }, checkOptionalHTTPURL),
		stringSetting("cluster.nats_url", "An external NATS cluster to coordinate through (nats://user:password@host:4222, several separated by commas), instead of the NATS server embedded in Visio. Never logged.",
			func(c *Config) *string { return &c.Cluster.NATSURL }, nil),
		stringSetting("cluster.name", "Name of the cluster of embedded NATS servers: the same on every node.",
			func(c *Config) *string { return &c.Cluster.Name }, nil),
		stringSetting("cluster.route_addr", "Address and port (such as 10.0.0.1:6222) where this node's embedded NATS server listens for the other nodes; empty: the node is alone (or uses cluster.nats_url).",
			func(c *Config) *string { return &c.Cluster.RouteAddr }, checkOptionalHostPort),
		listSetting("cluster.routes", "The route addresses (host:port) of the other nodes.",
			func(c *Config) *[]string { return &c.Cluster.Routes }, checkHostPort),
		stringSetting("cluster.secret", "Secret (at least 32 characters) that the nodes' embedded NATS servers present to each other; the same on every node. Never logged.",
			func(c *Config) *string { return &c.Cluster.Secret }, checkOptionalTokenSecret),
		intSetting("cluster.replicas", "Copies of the room directory and node registry in NATS JetStream: 3 survives the loss of one node (of three or more); 0 picks 1 for one node, 3 otherwise.",
			func(c *Config) *int { return &c.Cluster.Replicas }, 0, 5),
		stringSetting("cluster.data_dir", "Directory of the embedded NATS server's files.",
			func(c *Config) *string { return &c.Cluster.DataDir }, nil),
		durationSetting("cluster.drain_timeout", "On SIGTERM a node of a cluster drains: it takes no new meetings and waits this long for its meetings to end, then moves those left to other nodes and stops.",
			func(c *Config) *time.Duration { return &c.Cluster.DrainTimeout }, 0, 24*time.Hour),
	}
}

func clusterDefaults(c *Config) {
	c.Cluster.Name = "visio"
	c.Cluster.Routes = []string{}
	c.Cluster.DataDir = "data/nats"
	c.Cluster.DrainTimeout = 10 * time.Minute
}

// checkCluster refuses a cluster whose nodes could not share their rooms.
func checkCluster(c *Config) error {
	cl := c.Cluster
	if len(cl.Routes) > 0 && cl.RouteAddr == "" {
		return fmt.Errorf("config: cluster.routes needs cluster.route_addr, where this node listens for the others")
	}
	if cl.RouteAddr != "" && cl.NATSURL != "" {
		return fmt.Errorf("config: set cluster.route_addr (embedded NATS servers) or cluster.nats_url (an external NATS), not both")
	}
	if cl.RouteAddr != "" && cl.Secret == "" {
		return fmt.Errorf("config: cluster.route_addr needs cluster.secret, the same on every node, so that only the cluster's nodes join it (for example the output of `openssl rand -base64 32`)")
	}
	if !c.MultiNode() {
		return nil
	}
	var missing []string
	if !strings.HasPrefix(c.Database.URL, "postgres://") && !strings.HasPrefix(c.Database.URL, "postgresql://") {
		return fmt.Errorf("config: several nodes share their rooms, users and transcripts through PostgreSQL, and database.url is %s: set database.url to postgres://… (the same on every node), or run a single node without cluster.route_addr and cluster.nats_url",
			strings.SplitN(c.Database.URL, ":", 2)[0])
	}
	if cl.URL == "" {
		missing = append(missing, "cluster.url (where browsers reach this node)")
	}
	if c.Tokens.Secret == "" {
		missing = append(missing, "tokens.secret (join tokens made by one node are checked by another)")
	}
	if c.TURN.Secret == "" && (c.TURN.UDPPort != 0 || c.TURN.TCPPort != 0) {
		missing = append(missing, "turn.secret (TURN credentials made by one node are checked by another)")
	}
	if c.Chat.MaxFileBytes > 0 && c.Chat.S3Bucket == "" {
		missing = append(missing, "chat.s3_bucket (files shared in a chat must outlive their node; or chat.max_file_bytes=0 to turn file sharing off)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("config: with several nodes, set the same on every node: %s", strings.Join(missing, "; "))
	}
	return nil
}

func checkOptionalHTTPURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("%q is not an address such as https://node1.visio.example.org", v)
	}
	return nil
}

func checkOptionalTokenSecret(v string) error {
	if v == "" {
		return nil
	}
	return checkTokenSecret(v)
}
