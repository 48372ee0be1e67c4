package neo4jcheck;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway CA and a server certificate made with the openssl CLI, the key in the form
 * cert-manager would write for the rendered Certificate (its privateKey algorithm, size and
 * encoding; cert-manager's defaults are RSA 2048 in PKCS#1).
 */
final class Tls {
    final Path dir;
    final Path caCert;
    final Path cert;
    final Path key;
    final String keyForm;

    private Tls(Path dir, String keyForm) {
        this.dir = dir;
        this.caCert = dir.resolve("ca.crt");
        this.cert = dir.resolve("tls.crt");
        this.key = dir.resolve("tls.key");
        this.keyForm = keyForm;
    }

    static Tls issue(Path dir, JsonNode certificate) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        JsonNode pk = certificate == null ? null : certificate.path("privateKey");
        String algorithm = text(pk, "algorithm", "RSA").toUpperCase(Locale.ROOT);
        String encoding = text(pk, "encoding", "PKCS1").toUpperCase(Locale.ROOT);
        int size = pk != null && pk.has("size") ? pk.get("size").asInt() : (algorithm.equals("ECDSA") ? 256 : 2048);
        Tls t = new Tls(dir, algorithm + "/" + size + "/" + encoding);

        Path caKey = dir.resolve("ca.key");
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=throwaway test CA",
                "-keyout", caKey.toString(), "-out", t.caCert.toString());

        Path pkcs8 = dir.resolve("server-pkcs8.key");
        if (algorithm.equals("ECDSA")) {
            String curve = size == 384 ? "secp384r1" : size == 521 ? "secp521r1" : "prime256v1";
            openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:" + curve, "-out", pkcs8.toString());
        } else {
            openssl(dir, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:" + size, "-out", pkcs8.toString());
        }
        if (encoding.equals("PKCS8")) {
            Files.copy(pkcs8, t.key);
        } else if (algorithm.equals("ECDSA")) {
            openssl(dir, "ec", "-in", pkcs8.toString(), "-out", t.key.toString());
        } else {
            openssl(dir, "rsa", "-traditional", "-in", pkcs8.toString(), "-out", t.key.toString());
        }

        List<String> sans = new ArrayList<>(List.of("DNS:localhost", "IP:127.0.0.1"));
        if (certificate != null) {
            certificate.path("dnsNames").forEach(n -> sans.add("DNS:" + n.asText()));
        }
        Path csr = dir.resolve("server.csr");
        Path ext = dir.resolve("server.ext");
        Files.writeString(ext, "subjectAltName=" + String.join(",", sans) + "\n"
                + "extendedKeyUsage=serverAuth,clientAuth\n"
                + "keyUsage=digitalSignature,keyEncipherment\n", StandardCharsets.UTF_8);
        openssl(dir, "req", "-new", "-key", pkcs8.toString(), "-subj", "/CN=localhost", "-out", csr.toString());
        openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", t.caCert.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-days", "2", "-extfile", ext.toString(), "-out", t.cert.toString());
        return t;
    }

    private static String text(JsonNode n, String field, String dflt) {
        if (n == null || !n.hasNonNull(field) || n.get(field).asText().isEmpty()) {
            return dflt;
        }
        return n.get(field).asText();
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        Process p = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("openssl " + args[0] + " did not finish within 60 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed: " + Files.readString(log));
        }
    }
}
