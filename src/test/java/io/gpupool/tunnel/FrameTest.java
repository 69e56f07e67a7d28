package io.gpupool.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

/** The tunnel's frames and heads, byte for byte. */
class FrameTest {

    @Test
    void framesSurviveTheirEncoding() {
        for (Frame.Type type : Frame.Type.values()) {
            for (boolean end : new boolean[] { false, true }) {
                Frame f = new Frame(type, 123456789, end, Buffer.buffer("payload \u00e9"));
                Frame back = Frame.decode(f.encode());
                assertThat(back.type()).isEqualTo(type);
                assertThat(back.stream()).isEqualTo(123456789);
                assertThat(back.end()).isEqualTo(end);
                assertThat(back.payload().toString()).isEqualTo("payload \u00e9");
            }
        }
        assertThat(Frame.decode(Frame.window(7, 65536).encode()).windowIncrement()).isEqualTo(65536);
        Frame reset = Frame.decode(Frame.reset(9, Frame.Reset.REFUSED, "not yours").encode());
        assertThat(reset.resetCode()).isEqualTo(Frame.Reset.REFUSED);
        assertThat(reset.resetReason()).isEqualTo("not yours");
        assertThat(reset.end()).isTrue();
        Frame.Hello hello = Frame.Hello.of(Frame.decode(new Frame.Hello("g-1", 3).frame().encode()));
        assertThat(hello).isEqualTo(new Frame.Hello("g-1", 3));
    }

    @Test
    void aRequestCarriesItsHeadAndBodyAndNoCredentialsOrHopHeaders() {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json")
                .add("Accept", "text/event-stream").add("Accept", "application/json")
                .add("Authorization", "Bearer sk-member-key").add("Connection", "keep-alive")
                .add("Transfer-Encoding", "chunked").add("Host", "gateway.pool.example");
        Buffer body = new JsonObject().put("model", "llama").toBuffer();
        Heads.Request head = new Heads.Request("team-a.llama", "llama-0", HttpMethod.POST, "/v1/chat/completions?x=1",
                headers, 4096);
        Frame f = Frame.decode(new Frame(Frame.Type.REQUEST, 1, true,
                Frame.headAndBody(head.toJson().toBuffer(), body, 0, body.length())).encode());
        Heads.Request back = Heads.Request.of(f.head());
        assertThat(back.work()).isEqualTo("team-a.llama");
        assertThat(back.replica()).isEqualTo("llama-0");
        assertThat(back.method()).isEqualTo(HttpMethod.POST);
        assertThat(back.path()).isEqualTo("/v1/chat/completions?x=1");
        assertThat(back.window()).isEqualTo(4096);
        assertThat(back.headers().getAll("accept")).containsExactly("text/event-stream", "application/json");
        assertThat(back.headers().names()).containsExactlyInAnyOrder("Content-Type", "Accept");
        assertThat(f.bodyAfterHead().toJsonObject().getString("model")).isEqualTo("llama");
    }

    @Test
    void malformedFramesAreProtocolErrors() {
        assertThatThrownBy(() -> Frame.decode(Buffer.buffer(new byte[3]))).isInstanceOf(TunnelProtocolException.class);
        assertThatThrownBy(() -> Frame.decode(Buffer.buffer(new byte[] { 42, 0, 0, 0, 0, 1 })))
                .isInstanceOf(TunnelProtocolException.class).hasMessageContaining("unknown frame type 42");
        Frame lying = new Frame(Frame.Type.RESPONSE, 1, false, Buffer.buffer().appendInt(1000).appendString("{}"));
        assertThatThrownBy(lying::head).isInstanceOf(TunnelProtocolException.class);
        JsonObject noSlash = new Heads.Request("w", "r", HttpMethod.GET, "/x", MultiMap.caseInsensitiveMultiMap(), 0)
                .toJson().put("path", "http://elsewhere/");
        assertThatThrownBy(() -> Heads.Request.of(noSlash)).isInstanceOf(TunnelProtocolException.class);
    }
}
