package neo4jcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Config;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Session;
import org.neo4j.driver.SessionConfig;
import org.neo4j.driver.exceptions.Neo4jException;

/**
 * The operator's own Bolt client — `neo4j-controller cypher`, what a Neo4jDatabase's Job runs —
 * against a real Neo4j 5.26 Community server started from a rendered standalone neo4j.conf:
 * it connects, authenticates, binds parameters (values that would be code if spliced into the
 * text come back unchanged), runs `SHOW DATABASES`, and reports the refusal of
 * `CREATE DATABASE $name` (Community has no such command) with exactly the code and message
 * Neo4j's own Java driver gets, as the termination message the controller copies into the
 * Neo4jDatabase's `Ready` condition. With a TLS conf it does the same over TLS, trusting only
 * the host's CA and checking the name the Job uses.
 */
class BoltClientTest {
    private static final String PASSWORD = "bolt-client-check";
    /** Exit code of the client when Neo4j refused the statement (`render::database::EXIT_REFUSED`). */
    private static final int EXIT_REFUSED = 3;
    /** The client Service name a standalone `graph` in namespace `db` has (the Job's address). */
    private static final String SERVICE_NAME = "graph-client.db.svc.cluster.local";

    private static final List<String> RESULTS = new ArrayList<>();

    @TempDir
    Path scratch;

    @org.junit.jupiter.api.AfterAll
    static void summary() throws IOException {
        Files.write(Inputs.reports().resolve("5-bolt-client.summary"), RESULTS, StandardCharsets.UTF_8);
    }

    record Run(int code, String stdout, String stderr, String terminationMessage) {}

    @Test
    void bindsParametersRunsShowDatabasesAndReportsTheRefusalOfCreateDatabase() throws Exception {
        try (CommunityServer server = start("standalone-tls-off-1gi.conf", scratch.resolve("plain"))) {
            String uri = "bolt://127.0.0.1:" + server.boltPort;
            Config config = Config.builder().withoutEncryption()
                    .withConnectionTimeout(30, TimeUnit.SECONDS).build();
            setPassword(uri, config);
            List<String> base = List.of("--address", "127.0.0.1:" + server.boltPort);

            Run show = cypher(base, "SHOW DATABASES YIELD name, currentStatus WHERE name = $name "
                    + "RETURN name, currentStatus", "{\"name\":\"neo4j\"}", PASSWORD);
            assertEquals(0, show.code, show.toString());
            JsonNode result = new ObjectMapper().readTree(show.stdout);
            assertEquals("[\"name\",\"currentStatus\"]", result.get("fields").toString());
            assertEquals("[[\"neo4j\",\"online\"]]", result.get("records").toString());

            // A value that would end the string, comment out the rest and start a second
            // statement if it were spliced into the text travels as data.
            String hostile = "x' }) RETURN 1 AS owned //`; DROP DATABASE neo4j;\n$other \u00e9";
            List<String> userDb = new ArrayList<>(base);
            userDb.addAll(List.of("--database", "neo4j"));
            Run echo = cypher(userDb, "RETURN $v AS v, $n + 1 AS n, $list AS list",
                    new ObjectMapper().writeValueAsString(Map.of("v", hostile, "n", 41, "list", List.of("a", true))),
                    PASSWORD);
            assertEquals(0, echo.code, echo.toString());
            JsonNode row = new ObjectMapper().readTree(echo.stdout).get("records").get(0);
            assertEquals(hostile, row.get(0).asText());
            assertEquals(42, row.get(1).asInt());
            assertEquals("[\"a\",true]", row.get(2).toString());

            // The refusal: Neo4j's code and message, as the Java driver sees them.
            String statement = "CREATE DATABASE $name IF NOT EXISTS WAIT";
            Neo4jException expected;
            try (Driver d = GraphDatabase.driver(uri, AuthTokens.basic("neo4j", PASSWORD), config);
                    Session s = d.session(SessionConfig.forDatabase("system"))) {
                expected = assertThrows(Neo4jException.class,
                        () -> s.run(statement, Map.of("name", "orders")).consume());
            }
            Run refused = cypher(base, statement, "{\"name\":\"orders\"}", PASSWORD);
            assertEquals(EXIT_REFUSED, refused.code, refused.toString());
            String message = oneLine(expected.code() + ": " + expected.getMessage());
            assertEquals(message, refused.terminationMessage);
            assertTrue(refused.terminationMessage.startsWith("Neo.ClientError."), refused.terminationMessage);
            Files.writeString(Inputs.reports().resolve("bolt-client-refusal.txt"), refused.terminationMessage + "\n");

            // Wrong credentials are Neo4j's refusal too, with its own code.
            Run denied = cypher(base, "RETURN 1", "{}", "not-the-password");
            assertEquals(EXIT_REFUSED, denied.code, denied.toString());
            assertTrue(denied.terminationMessage.startsWith("Neo.ClientError.Security.Unauthorized"),
                    denied.terminationMessage);
            RESULTS.add("bolt   neo4j-controller cypher: parameters bound, SHOW DATABASES, refusal reported: "
                    + refused.terminationMessage);
        }
    }

    @Test
    void speaksTlsTrustingOnlyTheHostsCa() throws Exception {
        try (CommunityServer server = start("standalone-tls-cert-manager-1gi.conf", scratch.resolve("tls"))) {
            assertTrue(server.tls != null, "the conf requires TLS");
            Config config = Config.builder().withEncryption()
                    .withTrustStrategy(Config.TrustStrategy.trustCustomCertificateSignedBy(server.tls.caCert.toFile()))
                    .withConnectionTimeout(30, TimeUnit.SECONDS).build();
            setPassword("bolt://localhost:" + server.boltPort, config);
            List<String> tls = List.of("--address", "127.0.0.1:" + server.boltPort, "--tls",
                    "--ca-file", server.tls.caCert.toString(), "--server-name", SERVICE_NAME);
            Run show = cypher(tls, "SHOW DATABASES YIELD name RETURN name ORDER BY name", "{}", PASSWORD);
            assertEquals(0, show.code, show.toString());
            assertEquals("[[\"neo4j\"],[\"system\"]]",
                    new ObjectMapper().readTree(show.stdout).get("records").toString());

            // Without TLS the server (tls_level REQUIRED) answers nothing a client can use.
            Run plain = cypher(List.of("--address", "127.0.0.1:" + server.boltPort, "--timeout-seconds", "20"),
                    "RETURN 1", "{}", PASSWORD);
            assertTrue(plain.code != 0, plain.toString());

            // A name the certificate does not carry is refused by the client.
            Run wrongName = cypher(List.of("--address", "127.0.0.1:" + server.boltPort, "--tls",
                    "--ca-file", server.tls.caCert.toString(), "--server-name", "elsewhere.example"),
                    "RETURN 1", "{}", PASSWORD);
            assertEquals(2, wrongName.code, wrongName.toString());
            assertTrue(wrongName.terminationMessage.contains("TLS") || wrongName.terminationMessage.contains("certificate"),
                    wrongName.terminationMessage);
            RESULTS.add("bolt   neo4j-controller cypher over TLS: the host's CA only, server name checked");
        }
    }

    private CommunityServer start(String confName, Path work) throws Exception {
        Path conf = Inputs.confs().stream().filter(p -> p.getFileName().toString().equals(confName)).findFirst()
                .orElseThrow(() -> new AssertionError("no rendered " + confName));
        ConfChecker.Report r = ConfChecker.check(ConfFile.read(conf), Inputs.catalogue());
        assertTrue(r.config != null, confName + ": " + r.problems);
        CommunityServer server = CommunityServer.prepare(r, Inputs.meta(conf), work);
        int rc = server.start();
        if (rc != 0) {
            String logs = server.logTail(work);
            server.close();
            throw new AssertionError(confName + ": Neo4j Community refused to start (exit " + rc + ")\n" + logs);
        }
        return server;
    }

    private static void setPassword(String uri, Config config) {
        try (Driver d = GraphDatabase.driver(uri, AuthTokens.basic("neo4j", "neo4j"), config);
                Session s = d.session(SessionConfig.forDatabase("system"))) {
            s.run("ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO '" + PASSWORD + "'").consume();
        }
    }

    /** Runs `neo4j-controller cypher` as a Job would: argv, the password in the environment. */
    private Run cypher(List<String> connection, String statement, String parameters, String password)
            throws IOException, InterruptedException {
        Path controller = Inputs.path("neo4j.controller");
        assertTrue(Files.isExecutable(controller), "no " + controller + " (make neo4j-check builds it)");
        Path termination = Files.createTempFile(scratch, "termination", ".log");
        List<String> argv = new ArrayList<>(List.of(controller.toString(), "cypher"));
        argv.addAll(connection);
        argv.addAll(List.of("--statement", statement, "--parameters", parameters,
                "--termination-log", termination.toString()));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().put("NEO4J_USERNAME", "neo4j");
        pb.environment().put("NEO4J_PASSWORD", password);
        Path out = Files.createTempFile(scratch, "stdout", ".txt");
        Path err = Files.createTempFile(scratch, "stderr", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the client did not finish: " + argv);
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8), Files.readString(termination, StandardCharsets.UTF_8));
    }

    /** What the client writes as a termination message: control characters become spaces. */
    private static String oneLine(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        return b.toString();
    }
}
