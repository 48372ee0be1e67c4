package neo4jcheck;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.management.MemoryUsage;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.SettingImpl;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.graphdb.config.Setting;
import org.neo4j.memory.MachineMemory;
import org.neo4j.server.CommunityBootstrapper;
import org.neo4j.server.NeoBootstrapper;

/**
 * A Neo4j 5.26 Community server started in this JVM by the bootstrapper `neo4j console` runs,
 * from a rendered neo4j.conf with only these changes, each listed in {@link #changes}:
 * <ul>
 *   <li>keys Community does not declare (Enterprise-only) are left out, since strict validation
 *       would refuse them;</li>
 *   <li>absolute paths are moved under a scratch directory (`/data` becomes `<work>/data`);</li>
 *   <li>listen addresses move to 127.0.0.1 and free ports.</li>
 * </ul>
 * The machine memory Neo4j checks its memory settings against is the rendered pod's memory
 * limit, and the heap it sees is the rendered heap size (or, without one, a quarter of the
 * limit, the JVM's default), as in the pod; `server.jvm.additional` only reaches the JVM through
 * the launcher script, so those lines are read (and validated) but not applied here.
 */
final class CommunityServer implements AutoCloseable {
    final List<String> changes = new ArrayList<>();
    final Path home;
    final Path confFile;
    int boltPort;
    int httpPort;
    int httpsPort = -1;
    Tls tls;
    private NeoBootstrapper bootstrapper;
    private final long memoryLimit;
    private final Long heapMax;

    private CommunityServer(Path work, long memoryLimit, Long heapMax) {
        this.home = work.resolve("home");
        this.confFile = home.resolve("conf/neo4j.conf");
        this.memoryLimit = memoryLimit;
        this.heapMax = heapMax;
    }

    /** Writes the server's home and conf under {@code work} (a fresh directory). */
    static CommunityServer prepare(ConfChecker.Report report, JsonNode meta, Path work)
            throws IOException, InterruptedException {
        Config parsed = report.config;
        Map<String, Setting<Object>> declared = parsed.getDeclaredSettings();
        Long heap = parsed.get(org.neo4j.configuration.BootloaderSettings.max_heap_size);
        CommunityServer s = new CommunityServer(work, meta.path("memoryLimitBytes").asLong(), heap);
        Files.createDirectories(s.home.resolve("conf"));

        Map<String, Integer> ports = new LinkedHashMap<>();
        StringBuilder conf = new StringBuilder();
        Set<String> done = new java.util.HashSet<>();
        for (ConfFile.Line line : report.file.lines) {
            String k = line.key();
            String v = line.value();
            if (report.undeclared.contains(k)) {
                if (done.add(k)) {
                    s.changes.add("left out (not a Community setting): " + k);
                }
                continue;
            }
            Class<?> type = declared.containsKey(k) ? ((SettingImpl<?>) declared.get(k)).parser().getType() : null;
            if (type == Path.class && v.startsWith("/")) {
                Path moved = work.resolve(v.substring(1));
                Files.createDirectories(moved);
                s.changes.add("moved: " + k + "=" + v + " -> " + moved);
                v = moved.toString();
            } else if (k.equals(GraphDatabaseSettings.db_format.name()) && v.strip().equalsIgnoreCase("block")) {
                // The block store format is Enterprise-only; Community stores in `aligned`.
                s.changes.add("store format: " + k + "=" + v + " -> aligned (block is an Enterprise format)");
                v = "aligned";
            } else if (k.equals("server.default_listen_address")) {
                s.changes.add("listen: " + k + "=" + v + " -> 127.0.0.1");
                v = "127.0.0.1";
            } else if (type == SocketAddress.class && k.endsWith(".listen_address")) {
                int port = freePort();
                ports.put(k, port);
                s.changes.add("listen: " + k + "=" + v + " -> 127.0.0.1:" + port);
                v = "127.0.0.1:" + port;
            }
            conf.append(k).append('=').append(v).append('\n');
        }
        // A connector left at its default port would clash with other servers on this machine.
        for (Setting<SocketAddress> l : List.of(BoltConnector.listen_address, HttpConnector.listen_address,
                HttpsConnector.listen_address)) {
            if (!ports.containsKey(l.name())) {
                int port = freePort();
                ports.put(l.name(), port);
                conf.append(l.name()).append("=127.0.0.1:").append(port).append('\n');
                s.changes.add("listen: " + l.name() + " (not rendered) -> 127.0.0.1:" + port);
            }
        }
        s.boltPort = ports.get(BoltConnector.listen_address.name());
        s.httpPort = ports.get(HttpConnector.listen_address.name());
        if (Boolean.TRUE.equals(parsed.get(HttpsConnector.enabled))) {
            s.httpsPort = ports.get(HttpsConnector.listen_address.name());
        }

        JsonNode sslFiles = meta.path("sslFiles");
        if (sslFiles.isObject()) {
            s.tls = Tls.issue(work.resolve("issued"), meta.path("certificate"));
            Path ssl = work.resolve("ssl");
            for (Iterator<Map.Entry<String, JsonNode>> it = sslFiles.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                Path target = ssl.resolve(f.getKey());
                Files.createDirectories(target.getParent());
                Files.copy(s.tls.dir.resolve(f.getValue().asText()), target);
            }
            s.changes.add("TLS: /ssl holds " + listing(ssl) + " (throwaway CA; key " + s.tls.keyForm + ")");
        }
        Files.writeString(s.confFile, conf.toString(), StandardCharsets.ISO_8859_1);
        return s;
    }

    /** Starts the server; returns Neo4j's exit code (0: started). */
    int start() throws ReflectiveOperationException {
        bootstrapper = new CommunityBootstrapper();
        Method m = NeoBootstrapper.class.getDeclaredMethod("setMachineMemory", MachineMemory.class);
        m.setAccessible(true);
        m.invoke(bootstrapper, podMemory());
        return bootstrapper.start(home, confFile, Map.of(), false, false);
    }

    private MachineMemory podMemory() {
        long heap = heapMax != null ? heapMax : memoryLimit / 4;
        MemoryUsage usage = new MemoryUsage(heap, 0, heap, heap);
        return new MachineMemory() {
            @Override
            public long getTotalPhysicalMemory() {
                return memoryLimit;
            }

            @Override
            public MemoryUsage getHeapMemoryUsage() {
                return usage;
            }

            @Override
            public boolean hasCompressedOOPS() {
                return true;
            }
        };
    }

    /** The last lines of the server's logs, for failure messages. */
    String logTail(Path work) {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(work)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
                sb.append("--- ").append(p).append('\n');
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> sb.append(l).append('\n'));
            }
        } catch (IOException e) {
            sb.append("(logs unreadable: ").append(e.getMessage()).append(")");
        }
        return sb.toString();
    }

    @Override
    public void close() {
        if (bootstrapper != null) {
            bootstrapper.stop();
        }
    }

    private static String listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList().toString();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
