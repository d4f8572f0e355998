import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { DeviceTokenRegistration, WebPushSubscriptionRegistration } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { DevicesService } from './devices.service';

@Controller('v1/customers/:customerId')
@UseGuards(ApiKeyGuard)
@RequireScope('customers:read')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get('devices')
  list(@CurrentPrincipal() p: Principal, @Param('customerId') customerId: string) {
    return this.devices.list(p.workspaceId, customerId);
  }

  @RequireScope('customers:write')
  @Post('device-tokens')
  registerToken(
    @CurrentPrincipal() p: Principal,
    @Param('customerId') customerId: string,
    @Body() body: unknown,
  ) {
    return this.devices.registerToken(p.workspaceId, customerId, parseBody(DeviceTokenRegistration, body));
  }

  @RequireScope('customers:write')
  @Post('web-push-subscriptions')
  registerWebPush(
    @CurrentPrincipal() p: Principal,
    @Param('customerId') customerId: string,
    @Body() body: unknown,
  ) {
    return this.devices.registerWebPush(
      p.workspaceId,
      customerId,
      parseBody(WebPushSubscriptionRegistration, body),
    );
  }

  @RequireScope('customers:write')
  @Delete('device-tokens/:id')
  @HttpCode(204)
  revokeToken(
    @CurrentPrincipal() p: Principal,
    @Param('customerId') customerId: string,
    @Param('id') id: string,
  ) {
    return this.devices.revokeToken(p.workspaceId, customerId, id);
  }

  @RequireScope('customers:write')
  @Delete('web-push-subscriptions/:id')
  @HttpCode(204)
  revokeWebPush(
    @CurrentPrincipal() p: Principal,
    @Param('customerId') customerId: string,
    @Param('id') id: string,
  ) {
    return this.devices.revokeWebPush(p.workspaceId, customerId, id);
  }
}
