package kb.server;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.TransactionTerminatedException;
import org.neo4j.graphdb.TransientFailureException;
import org.neo4j.io.ByteUnit;
import org.neo4j.server.configuration.ServerSettings;

/**
 * Runs Neo4j Community with its Bolt and HTTP connectors on loopback and authentication on; the
 * HTTP connector serves Neo4j Browser at /browser/.
 *
 * Arguments: --home DIR --port N --http-port N --import DIR --transaction-max SIZE
 * --transaction-total-max SIZE [--pagecache SIZE]. LOAD CSV reads file URLs inside the import
 * folder only. The password of the user neo4j is read from the first line of standard input, so it
 * never appears on a command line.
 *
 * Why the embedded builder and not the server's own bootstrapper (CommunityBootstrapper): both build
 * the same database management service, and the builder starts the same web server (with its
 * Browser module) as soon as the HTTP connector is enabled and the server's classes are on the class
 * path. The builder keeps every setting typed in this file, needs no neo4j.conf or log4j files in
 * the data folder, and leaves the process ours: it sets the password and prints the ready line that
 * kb/server.py waits for, which the bootstrapper's main loop would not.
 */
public final class Launcher {

    /**
     * The Content-Security-Policy header of the pages the HTTP connector serves (Neo4j Browser). Neo4j's
     * own default lets the Browser load web fonts, scripts and images from other hosts and connect to
     * any host; this one keeps everything on this machine: the page's own files, and connections to
     * loopback only (the Bolt port over WebSocket, HTTP discovery). The Browser still asks for a
     * web-font stylesheet and sends performance traces to an error-tracking service whatever its
     * telemetry setting; Chromium refuses both under this policy and the Browser works without them.
     */
    private static final String BROWSER_CONTENT_POLICY = String.join("; ",
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self' ws://127.0.0.1:* ws://localhost:* http://127.0.0.1:* http://localhost:*",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'");

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parseOptions(args);
        Path home = Path.of(require(options, "home")).toAbsolutePath();
        int port = Integer.parseInt(require(options, "port"));
        int httpPort = Integer.parseInt(require(options, "http-port"));
        Path imports = Path.of(require(options, "import")).toAbsolutePath();
        String pagecache = options.getOrDefault("pagecache", "512m");
        String password = readPassword();

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, true)
                .setConfig(HttpConnector.listen_address, new SocketAddress("127.0.0.1", httpPort))
                .setConfig(HttpConnector.advertised_address, new SocketAddress("127.0.0.1", httpPort))
                // Neo4j Browser reads this through dbms.clientConfig(): with it off, the Browser sends
                // no usage statistics or crash reports to its maker's services.
                .setConfig(ServerSettings.allow_telemetry, false)
                .setConfig(ServerSettings.http_static_content_security_policy, BROWSER_CONTENT_POLICY)
                // The databases are stopped before Bolt's network threads, so nothing is left for
                // those to finish; Neo4j's default quiet period of 5 s per connector made every stop
                // take about 10 s (a bulk load's, a restore's, `kb server stop`).
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.parse(pagecache))
                // Without a root, file:/// URLs in LOAD CSV name any path on the machine.
                .setConfig(GraphDatabaseSettings.load_csv_file_url_root, imports)
                // One transaction, and all of them together, may hold this much heap; a query
                // that needs more fails with MemoryLimitExceeded instead of starving the others.
                .setConfig(GraphDatabaseSettings.memory_transaction_max_size,
                        ByteUnit.parse(require(options, "transaction-max")))
                .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size,
                        ByteUnit.parse(require(options, "transaction-total-max")))
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            stopped.countDown();
        }));
        setPassword(dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME), password);
        System.out.println("kb-neo4j ready on bolt://127.0.0.1:" + port + " and http://127.0.0.1:" + httpPort);
        System.out.flush();
        stopped.await();
    }

    private static void setPassword(GraphDatabaseService system, String password) throws InterruptedException {
        // After a kill the system database may still rebuild its indexes when the service is up,
        // and refuses transactions as "not currently available" meanwhile: wait, then try again.
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (true) {
            system.isAvailable(TimeUnit.NANOSECONDS.toMillis(Math.max(0, deadline - System.nanoTime())));
            try {
                system.executeTransactionally(
                        "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                        Map.of("password", password));
                return;
            } catch (TransactionTerminatedException | TransientFailureException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(500);
            } catch (RuntimeException e) {
                // Neo4j refuses to "change" a password to the one already set; that is our steady state.
                if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                    throw e;
                }
                return;
            }
        }
    }

    private static String readPassword() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = in.readLine();
        if (line == null || line.isEmpty()) {
            throw new IllegalArgumentException("no password on standard input");
        }
        return line;
    }

    private static Map<String, String> parseOptions(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }

    private static String require(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return value;
    }
}
