package neo4jcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Config;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Record;
import org.neo4j.driver.Session;
import org.neo4j.driver.SessionConfig;

/**
 * A real Neo4j 5.26 Community server started from the rendered neo4j.conf files `render-confs`
 * marks ({@code serverStart}: a subset holding every distinct memory size, TLS mode, directory
 * layout and user configuration; every file goes through the parser in {@link RenderedConfTest}),
 * see {@link CommunityServer} for what is changed and why, then over Bolt — with TLS and the
 * throwaway CA when the conf requires it — `RETURN 1` and `SHOW DATABASES`, and a GET on the
 * HTTP (and HTTPS) connector.
 */
class CommunityServerTest {
    private static final String PASSWORD = "rendered-conf-check";

    private static final List<String> RESULTS = new ArrayList<>();

    @TempDir
    Path scratch;

    @AfterAll
    static void summary() throws Exception {
        Files.write(Inputs.reports().resolve("3-server.summary"), RESULTS, StandardCharsets.UTF_8);
    }

    @TestFactory
    Stream<DynamicTest> aCommunityServerStartsFromEveryRenderedConf() throws Exception {
        Catalogue catalogue = Inputs.catalogue();
        Path reports = Inputs.reports();
        List<Path> started = new ArrayList<>();
        for (Path p : Inputs.confs()) {
            if (Inputs.meta(p).path("serverStart").asBoolean(false)) {
                started.add(p);
            }
        }
        assertTrue(started.size() >= 4, "render-confs marks too few cases for a server start: " + started);
        return started.stream().map(path -> DynamicTest.dynamicTest(path.getFileName().toString(), () -> {
            ConfFile file = ConfFile.read(path);
            JsonNode meta = Inputs.meta(path);
            ConfChecker.Report r = ConfChecker.check(file, catalogue);
            assertTrue(r.config != null, file.name() + ": Neo4j's parser refuses it: " + r.problems);
            Path work = scratch.resolve(file.name());
            List<String> out = new ArrayList<>();
            String verdict = "FAILED";
            try (CommunityServer server = CommunityServer.prepare(r, meta, work)) {
                out.add("# " + file.name() + ": changes made to run it on Community on loopback");
                out.addAll(server.changes);
                int rc = server.start();
                out.add("# exit code of the bootstrapper: " + rc);
                Files.write(reports.resolve(file.name() + ".server.txt"), out, StandardCharsets.UTF_8);
                assertEquals(0, rc, file.name() + ": Neo4j Community refused to start (exit " + rc + ")\n"
                        + server.logTail(work));
                try {
                    boltQueries(server, file);
                    http(server);
                } catch (Exception | AssertionError e) {
                    throw new AssertionError(file.name() + ": the server started but does not answer: " + e + "\n"
                            + server.logTail(work), e);
                }
                out.add("# Bolt RETURN 1, SHOW DATABASES and HTTP(S) GET passed");
                verdict = String.format("started; Bolt%s and HTTP%s answer; %d Enterprise-only keys left out",
                        server.tls != null && "REQUIRED".equals(file.value("server.bolt.tls_level")) ? " (TLS)" : "",
                        server.httpsPort > 0 ? " + HTTPS" : "", r.undeclared.size());
            } finally {
                RESULTS.add(String.format("server %-44s %s", file.name(), verdict));
                Files.write(reports.resolve(file.name() + ".server.txt"), out, StandardCharsets.UTF_8);
            }
        }));
    }

    private static void boltQueries(CommunityServer server, ConfFile file) throws Exception {
        String level = server.tls == null ? "DISABLED" : String.valueOf(file.value("server.bolt.tls_level"));
        Config.ConfigBuilder b = Config.builder().withConnectionTimeout(30, java.util.concurrent.TimeUnit.SECONDS);
        if (level.equals("REQUIRED")) {
            b = b.withEncryption()
                    .withTrustStrategy(Config.TrustStrategy.trustCustomCertificateSignedBy(server.tls.caCert.toFile()));
        } else {
            b = b.withoutEncryption();
        }
        Config config = b.build();
        String uri = "bolt://localhost:" + server.boltPort;
        boolean auth = !"false".equals(file.value("dbms.security.auth_enabled"));
        if (auth) {
            // First login: the initial password must be changed before anything else runs.
            try (Driver d = GraphDatabase.driver(uri, AuthTokens.basic("neo4j", "neo4j"), config);
                    Session s = d.session(SessionConfig.forDatabase("system"))) {
                s.run("ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO '" + PASSWORD + "'").consume();
            }
        }
        try (Driver d = GraphDatabase.driver(uri, auth ? AuthTokens.basic("neo4j", PASSWORD) : AuthTokens.none(), config)) {
            d.verifyConnectivity();
            try (Session s = d.session()) {
                assertEquals(1, s.run("RETURN 1 AS one").single().get("one").asInt());
            }
            try (Session s = d.session(SessionConfig.forDatabase("system"))) {
                Map<String, String> status = new TreeMap<>();
                for (Record rec : s.run("SHOW DATABASES YIELD name, currentStatus").list()) {
                    status.put(rec.get("name").asString(), rec.get("currentStatus").asString());
                }
                assertEquals(Map.of("neo4j", "online", "system", "online"), status, "SHOW DATABASES");
            }
        }
    }

    private static void http(CommunityServer server) throws Exception {
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> res = plain.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), "HTTP discovery: " + res.body());
        if (server.httpsPort > 0) {
            HttpClient tls = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .sslContext(trusting(server.tls.caCert))
                    .build();
            HttpResponse<String> sres = tls.send(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + server.httpsPort + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, sres.statusCode(), "HTTPS discovery: " + sres.body());
        }
    }

    private static SSLContext trusting(Path caCert) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caCert)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
