// The browser side of lenet.DrawPad (lenet/pad.py): a canvas to draw on with the mouse, a pen or a finger; as each
// stroke ends, its grey levels go to Python, and Python's answer (the 28x28 digit the model saw, the ten
// probabilities, a message) is drawn beside it. anywidget's model carries both ways; no comms of our own.
function render({ model, el }) {
  const side = model.get("side");
  el.classList.add("lenet-pad");
  el.innerHTML = `
    <div class="lenet-pad-left">
      <canvas class="lenet-pad-canvas" width="${side}" height="${side}"></canvas>
      <button class="lenet-pad-clear" type="button">clear</button>
    </div>
    <div class="lenet-pad-right">
      <div class="lenet-pad-answer"></div>
      <div class="lenet-pad-message"></div>
      <div class="lenet-pad-seen"><canvas class="lenet-pad-digit" width="28" height="28"></canvas>
        <span>what the model sees (28x28)</span></div>
      <div class="lenet-pad-bars"></div>
    </div>`;
  const canvas = el.querySelector(".lenet-pad-canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const bars = el.querySelector(".lenet-pad-bars");
  for (let digit = 0; digit < 10; digit++) {
    bars.insertAdjacentHTML("beforeend", `<div class="lenet-pad-bar"><span>${digit}</span><div class="lenet-pad-track"><div class="lenet-pad-fill"></div></div>
      <span class="lenet-pad-percent"></span></div>`);
  }

  function paint(pixels) { // grey levels (one byte a pixel) onto the canvas; white paper if there are none
    const image = context.createImageData(side, side);
    const grey = pixels && pixels.byteLength === side * side ? new Uint8Array(pixels.buffer, pixels.byteOffset, side * side) : null;
    for (let i = 0; i < side * side; i++) {
      const value = grey ? grey[i] : 255;
      image.data.set([value, value, value, 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  }

  function send() { // the canvas's grey levels (its red channel: ink is black on white) to Python
    const rgba = context.getImageData(0, 0, side, side).data;
    const grey = new Uint8Array(side * side);
    for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i];
    model.set("pixels", new DataView(grey.buffer));
    model.save_changes();
  }

  function show() {
    const result = model.get("result") || {};
    const answer = el.querySelector(".lenet-pad-answer");
    answer.textContent = result.answer === null || result.answer === undefined ? "?" : String(result.answer);
    el.querySelector(".lenet-pad-message").textContent = result.message || "";
    const digit = el.querySelector(".lenet-pad-digit").getContext("2d");
    const image = digit.createImageData(28, 28);
    (result.digit || []).forEach((value, i) => image.data.set([value, value, value, 255], 4 * i));
    digit.putImageData(image, 0, 0);
    const probabilities = result.probabilities || [];
    bars.querySelectorAll(".lenet-pad-bar").forEach((bar, i) => {
      const p = probabilities.length ? probabilities[i] : 0;
      bar.querySelector(".lenet-pad-fill").style.width = `${(100 * p).toFixed(1)}%`;
      bar.classList.toggle("lenet-pad-top", result.answer === i);
      bar.querySelector(".lenet-pad-percent").textContent = probabilities.length ? `${(100 * p).toFixed(0)}%` : "";
    });
    el.dataset.count = String(result.count || 0); // how many readings the page has shown (tests wait on it)
  }

  let drawing = false;
  function point(event) { // canvas pixels, whatever size CSS gives the canvas
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * side / box.width, (event.clientY - box.top) * side / box.height];
  }
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    Object.assign(context, { lineWidth: model.get("pen"), lineCap: "round", lineJoin: "round", strokeStyle: "#000" });
    context.beginPath();
    context.moveTo(x, y);
    context.lineTo(x, y); // a tap leaves a dot
    context.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = point(event);
    context.lineTo(x, y);
    context.stroke();
    context.beginPath();
    context.moveTo(x, y);
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    send();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  el.querySelector(".lenet-pad-clear").addEventListener("click", () => {
    paint(null);
    send();
  });

  paint(model.get("pixels"));
  model.on("change:result", show);
  show();
  return () => model.off("change:result", show);
}

export default { render };
