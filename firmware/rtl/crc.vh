// CRC steps for one byte, as functions (included where needed).
// CRC-8: polynomial 0x07, MSB first. CRC-32: IEEE 802.3, reflected (0xEDB88320).
function [7:0] crc8_step;
  input [7:0] crc;
  input [7:0] data;
  integer i;
  reg [7:0] c;
  begin
    c = crc ^ data;
    for (i = 0; i < 8; i = i + 1) c = c[7] ? {c[6:0], 1'b0} ^ 8'h07 : {c[6:0], 1'b0};
    crc8_step = c;
  end
endfunction

function [31:0] crc32_step;
  input [31:0] crc;
  input [7:0] data;
  integer i;
  reg [31:0] c;
  begin
    c = crc ^ {24'd0, data};
    for (i = 0; i < 8; i = i + 1) c = c[0] ? {1'b0, c[31:1]} ^ 32'hEDB88320 : {1'b0, c[31:1]};
    crc32_step = c;
  end
endfunction
